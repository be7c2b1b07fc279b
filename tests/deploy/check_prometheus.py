#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""deploy/prometheus and deploy/grafana, checked with Prometheus's promtool:
the rule files pass `promtool check rules` and the unit tests of
tests/deploy/prometheus_test.yaml (`promtool test rules`); every PromQL
expression of the Grafana dashboard parses (each is checked as a
recording rule); and every metric the rules and the dashboard name is one
the daemon exports (its metric families, read from src/daemon).

    check_prometheus.py PROMTOOL SOURCE_DIR
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("check_prometheus: no PyYAML: install python3-yaml (bash scripts/deps.sh does)")

failures = []


def promtool(tool, *args):
    run = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        failures.append(f"promtool {' '.join(args)}:\n{run.stdout}{run.stderr}")
    return run


def main():
    tool, src = sys.argv[1], sys.argv[2]
    rules = sorted(glob.glob(os.path.join(src, "deploy", "prometheus", "*.yaml")))
    if not any(r.endswith("alerts.yaml") for r in rules):
        failures.append("no deploy/prometheus/alerts.yaml")
    promtool(tool, "check", "rules", *rules)
    promtool(tool, "test", "rules", os.path.join(src, "tests", "deploy", "prometheus_test.yaml"))

    exprs = []  # (where, expr)
    alerts = set()
    for path in rules:
        with open(path) as f:
            for group in yaml.safe_load(f)["groups"]:
                for rule in group["rules"]:
                    exprs.append((os.path.basename(path), rule["expr"]))
                    if "alert" in rule:
                        alerts.add(rule["alert"])
                        if "sdconnect diagnose" not in rule["annotations"].get("description", "") \
                                and rule["alert"] in ("SdconnectEndpointDown", "SdconnectCheckFailing",
                                                      "SdconnectWebhookDown", "SdconnectDirectoryUnreachable"):
                            failures.append(f"alert {rule['alert']} does not say to run sdconnect diagnose")
    for want in ("SdconnectEndpointDown", "SdconnectCheckFailing", "SdconnectCertificateExpiringSoon",
                 "SdconnectDirectoryUnreachable", "SdconnectSchedulerLagging"):
        if want not in alerts:
            failures.append(f"no alert {want}")
    with open(os.path.join(src, "deploy", "grafana", "sdconnect.json")) as f:
        dash = json.load(f)
    dash_exprs = []
    for p in dash.get("panels", []):
        if p.get("datasource", {}).get("uid") != "${datasource}":
            failures.append(f"panel '{p.get('title')}' does not use the datasource variable")
        for t in p.get("targets", []):
            dash_exprs.append((f"dashboard panel '{p.get('title')}'", t["expr"]))
    if not dash_exprs:
        failures.append("the dashboard has no queries")

    # each dashboard query parses: promtool checks it as a recording rule
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as tmp:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": [
            {"record": f"dashboard:query_{i}", "expr": e.replace("$__rate_interval", "5m")}
            for i, (_, e) in enumerate(dash_exprs)]}]}, tmp)
    try:
        promtool(tool, "check", "rules", tmp.name)
    finally:
        os.unlink(tmp.name)

    # metric names: what the daemon registers
    exported = set()
    for path in glob.glob(os.path.join(src, "src", "daemon", "*.c")):
        with open(path) as f:
            exported |= set(re.findall(r'"((?:probe|sdconnect|process)_[a-z_]+)"', f.read()))
    histograms = {"sdconnect_scheduler_lag_seconds", "sdconnect_webhook_call_duration_seconds"}
    for where, e in exprs + dash_exprs:
        for name in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", re.sub(r'"[^"]*"', '""', e)):
            if ":" in name or not name.startswith(("probe_", "sdconnect_", "process_")):
                continue
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in exported and not (base in histograms and base in exported):
                failures.append(f"{where}: {name} is not a metric sdconnect exports")

    if failures:
        for f in failures:
            print("check_prometheus: " + f, file=sys.stderr)
        sys.exit(1)
    print(f"check_prometheus: {len(exprs)} rules ({len(alerts)} alerts) and {len(dash_exprs)} "
          f"dashboard queries parse, pass their tests and name exported metrics")


if __name__ == "__main__":
    main()
