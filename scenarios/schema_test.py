#!/usr/bin/env python3
"""Checks scenario files against scenarios/scenario.schema.json.

Every shipped scenarios/*.yaml and testdata/valid/*.yaml must validate; every
testdata/invalid/*.yaml must be rejected (by the YAML reader or the schema),
except files marked "# schema: cannot-express (why)", which break a rule only
the parser knows and must therefore still pass the schema (so the marker is
removed once the schema learns the rule). The parser side of the same files is
checked by harness/scenario/scenario_test.cc.

Uses Debian's python3-yaml and python3-jsonschema (see ci/install-deps.sh):
an independent YAML reader and validator, as an editor would use.

Usage: schema_test.py [SCENARIOS_DIR]   (default: this file's directory)
Ends with "N passed, N failed"; exits 1 on any failure.
"""
import glob
import json
import os
import sys

try:
    import jsonschema
    import yaml
except ImportError as e:  # a missing package is a failure, never a skip
    print(f"schema_test: FAIL: {e} (install python3-jsonschema and python3-yaml: ci/install-deps.sh)")
    print("0 passed, 1 failed")
    sys.exit(1)

CANNOT_EXPRESS = "# schema: cannot-express"


def describe(error):
    where = "/".join(str(p) for p in error.absolute_path) or "(top)"
    return f"{where}: {error.message}"


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(__file__))
    with open(os.path.join(root, "scenario.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)

    passed, failed = 0, 0

    def report(ok, name, detail):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    shipped = sorted(glob.glob(os.path.join(root, "*.yaml")))
    valid = shipped + sorted(glob.glob(os.path.join(root, "testdata", "valid", "*.yaml")))
    invalid = sorted(glob.glob(os.path.join(root, "testdata", "invalid", "*.yaml")))
    report(len(shipped) >= 5, "shipped scenarios found",
           f"expected at least 5 scenarios in {root}, found {len(shipped)}")
    report(len(invalid) > 0, "invalid corpus found", f"no files in {root}/testdata/invalid")

    for path in valid:
        name = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                doc = yaml.safe_load(f)
        except yaml.YAMLError as e:
            report(False, name, f"YAML error: {e}")
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        report(not errors, name, "; ".join(describe(e) for e in errors))

    for path in invalid:
        name = os.path.relpath(path, root)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        cannot_express = CANNOT_EXPRESS in text
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            report(not cannot_express, name,
                   f"marked cannot-express, but the YAML reader rejects it: {e}")
            continue
        errors = list(validator.iter_errors(doc))
        if cannot_express:
            report(not errors, name,
                   "marked cannot-express, but the schema rejects it now (remove the marker): "
                   + "; ".join(describe(e) for e in errors))
        else:
            report(bool(errors), name, "the schema accepts this broken file")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
