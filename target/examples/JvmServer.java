// A JVM HTTP server, for gracecheck's own tests: the shape of a Java service
// stopped by SIGTERM. Run from source (JDK 11+ compiles a single file in
// memory, no build step):
//
//     java target/examples/JvmServer.java PORT [--no-hook]
//
// Endpoints: GET /healthz, GET /items/N, POST /items (answered once the body
// is read), GET /slow?ms=N (sleeps N ms); anything else is 404. HTTP/1.1
// keep-alive (the JDK's com.sun.net.httpserver). Listens on 127.0.0.1 only.
// No database: it proves the HTTP side and the exit only.
//
// On SIGTERM the JVM runs its shutdown hooks and then exits with status 143
// (128 + SIGTERM), which is how every JVM service ends after a graceful stop.
// The hook here is the usual one: HttpServer.stop(3) closes the listener at
// once and waits up to 3 s for the exchanges in progress to finish, then the
// handler threads stop. With --no-hook nothing waits: the JVM exits 143 just
// the same, and the requests in flight die with it (a real bug with a
// "graceful" exit code, which the other checks must still catch).
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

public class JvmServer {
  public static void main(String[] args) throws IOException {
    final int port = Integer.parseInt(args[0]);
    final boolean hook = !(args.length > 1 && args[1].equals("--no-hook"));
    final HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    final ExecutorService workers = Executors.newFixedThreadPool(32);
    server.setExecutor(workers);
    server.createContext("/", JvmServer::handle);
    if (hook) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    System.err.println("jvm-server: stopping (SIGTERM), draining up to 3s");
                    server.stop(3);
                    workers.shutdown();
                    try {
                      workers.awaitTermination(3, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    System.err.println("jvm-server: stopped");
                  }));
    }
    server.start();
    System.err.println("jvm-server: listening on 127.0.0.1:" + port + (hook ? "" : " (no hook)"));
  }

  private static void handle(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      in.readAllBytes();
    }
    final String path = ex.getRequestURI().getPath();
    final String query = ex.getRequestURI().getQuery();
    int status = 200;
    String body = "ok\n";
    if (path.equals("/slow")) {
      long ms = 100;
      if (query != null && query.startsWith("ms=")) ms = Long.parseLong(query.substring(3));
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    } else if (path.startsWith("/items")) {
      body = "{\"path\":\"" + path + "\"}\n";
    } else if (!path.equals("/healthz")) {
      status = 404;
      body = "not found\n";
    }
    final byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
