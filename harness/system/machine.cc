#include "machine.h"

#include <sys/utsname.h>

#include <cstdlib>
#include <thread>

namespace gracecheck {

MachineInfo DescribeMachine() {
  MachineInfo m;
  m.cores = std::thread::hardware_concurrency();
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  if (::getloadavg(m.load, 3) != 3) m.load[0] = m.load[1] = m.load[2] = -1;
  return m;
}

}  // namespace gracecheck
