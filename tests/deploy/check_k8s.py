#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""deploy/k8s, checked: every manifest parses (PyYAML, Debian's python3-yaml)
into the kinds and fields the deployment needs, the objects refer to each
other correctly (names, selectors, ports, keys), the pods run as the
container image's non-root user on a read-only root with probes on
/healthz and /readyz, the replica count matches --replicas, and the
ConfigMap's sdconnect.yaml passes `sdconnect config check` with the files
it names laid out as the pods mount them.

    check_k8s.py SDCONNECT_BIN SOURCE_DIR
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

try:
    import yaml
except ImportError:
    sys.exit("check_k8s: no PyYAML: install python3-yaml (bash scripts/deps.sh does)")

failures = []


def fail(msg):
    failures.append(msg)


def main():
    sdconnect, src = sys.argv[1], sys.argv[2]
    k8s = os.path.join(src, "deploy", "k8s")
    objs = []
    for path in sorted(glob.glob(os.path.join(k8s, "*.yaml"))):
        with open(path) as f:
            for doc in yaml.safe_load_all(f):
                if doc is None:
                    continue
                for key in ("apiVersion", "kind", "metadata") if doc.get("kind") != "Kustomization" else ("apiVersion", "kind"):
                    if key not in doc:
                        fail(f"{os.path.basename(path)}: a document without {key}")
                doc["_file"] = os.path.basename(path)
                objs.append(doc)

    def of(kind):
        return [o for o in objs if o.get("kind") == kind]

    def one(kind):
        found = of(kind)
        if len(found) != 1:
            fail(f"want one {kind}, found {len(found)}")
            return {}
        return found[0]

    kust = one("Kustomization")
    listed = set(kust.get("resources", []))
    files = {os.path.basename(p) for p in glob.glob(os.path.join(k8s, "*.yaml"))} - {"kustomization.yaml"}
    if listed != files:
        fail(f"kustomization.yaml lists {sorted(listed)}, the folder holds {sorted(files)}")
    ns = kust.get("namespace")
    for o in objs:
        if o["kind"] in ("Kustomization", "Namespace"):
            continue
        if o["metadata"].get("namespace") != ns:
            fail(f"{o['_file']}: {o['kind']} {o['metadata'].get('name')} is not in namespace {ns}")
    if one("Namespace").get("metadata", {}).get("name") != ns:
        fail("the Namespace is not the kustomization's")

    sts = one("StatefulSet")
    spec = sts.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    labels = spec.get("template", {}).get("metadata", {}).get("labels", {})
    if spec.get("selector", {}).get("matchLabels", {}).items() - labels.items():
        fail("the StatefulSet's selector does not match its pods' labels")
    containers = pod.get("containers", [])
    if len(containers) != 1:
        fail("want one container")
        return
    c = containers[0]
    args = c.get("args", [])
    if args[:1] != ["serve"]:
        fail("the container does not run `serve`")
    if "--replicas" not in args or args[args.index("--replicas") + 1] != str(spec.get("replicas")):
        fail(f"--replicas in args ({args}) is not spec.replicas ({spec.get('replicas')})")
    if str(c.get("image", "")).endswith(":latest") or ":" not in str(c.get("image", "")):
        fail("the image has no pinned tag")
    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"),
                        ("startupProbe", "/healthz")):
        get = c.get(probe, {}).get("httpGet", {})
        if get.get("path") != path or get.get("port") not in ports:
            fail(f"{probe} is not an httpGet of {path} on a named container port")
    psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True or not psc.get("runAsUser"):
        fail("the pod does not run as a non-root user")
    if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        fail("no RuntimeDefault seccomp profile")
    if csc.get("readOnlyRootFilesystem") is not True or csc.get("allowPrivilegeEscalation") is not False \
            or csc.get("capabilities", {}).get("drop") != ["ALL"]:
        fail("the container is not read-only, without privilege escalation and capabilities")
    with open(os.path.join(src, "deploy", "container", "Containerfile")) as f:
        users = re.findall(r"^USER (\d+)", f.read(), re.M)
    if not users or int(users[-1]) != psc.get("runAsUser"):
        fail(f"runAsUser {psc.get('runAsUser')} is not the image's USER {users}")
    res = c.get("resources", {})
    if not res.get("requests", {}).get("cpu") or not res.get("requests", {}).get("memory") \
            or not res.get("limits", {}).get("memory"):
        fail("resources need cpu and memory requests and a memory limit")

    # Volumes: the ConfigMap and Secret they name exist; mounts say where.
    cms = {o["metadata"]["name"]: o for o in of("ConfigMap")}
    secrets = {o["metadata"]["name"]: o for o in of("Secret")}
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])}
    mounts = {}
    for m in c.get("volumeMounts", []):
        v = vols.get(m["name"])
        if v is None and m["name"] not in claims:
            fail(f"volumeMount {m['name']} has no volume")
        mounts[m["mountPath"]] = v if v is not None else {"claim": m["name"]}
    cm = sec = None
    cm_dir = sec_dir = state_dir = None
    for path, v in mounts.items():
        if "configMap" in v:
            cm, cm_dir = cms.get(v["configMap"]["name"]), path
            if cm is None:
                fail(f"no ConfigMap {v['configMap']['name']}")
        elif "secret" in v:
            sec, sec_dir = secrets.get(v["secret"]["secretName"]), path
            if sec is None:
                fail(f"no Secret {v['secret']['secretName']}")
        elif "claim" in v:
            state_dir = path
    if not cm or not sec or not state_dir:
        fail("the pod mounts no ConfigMap, Secret or state volume")
        return
    if any(p != q and p.startswith(q + "/") for p in mounts for q in mounts):
        fail("a mount inside another (a read-only ConfigMap cannot hold a mount point)")
    cfg_path = next((a for a in args if a.endswith(".yaml")), "")
    if os.path.dirname(cfg_path) != cm_dir or os.path.basename(cfg_path) not in cm.get("data", {}):
        fail(f"--config {cfg_path} is not a file of the mounted ConfigMap")
        return
    cfg = yaml.safe_load(cm["data"][os.path.basename(cfg_path)])
    if cfg.get("stateDir") != state_dir:
        fail(f"stateDir {cfg.get('stateDir')} is not the state volume ({state_dir})")
    admin_port = int(str(cfg.get("admin", {}).get("listen", ":0")).rsplit(":", 1)[1])
    gw_port = int(str(cfg.get("gateway", {}).get("listen", ":0")).rsplit(":", 1)[1])
    if ports.get("admin") != admin_port or ports.get("gateway") != gw_port:
        fail(f"container ports {ports} are not admin.listen {admin_port} and gateway.listen {gw_port}")
    if not str(cfg.get("admin", {}).get("listen", "")).startswith(("0.0.0.0:", "[::]:")):
        fail("admin.listen is not on every address: the kubelet could not probe it")

    # Services, the PodDisruptionBudget and the ServiceMonitor find the pods.
    services = of("Service")
    headless = [s for s in services if s["spec"].get("clusterIP") == "None"]
    if [s["metadata"]["name"] for s in headless] != [spec.get("serviceName")]:
        fail(f"serviceName {spec.get('serviceName')} is not the one headless Service")
    for s in services:
        if s["spec"].get("selector", {}).items() - labels.items():
            fail(f"Service {s['metadata']['name']} does not select the pods")
        for p in s["spec"].get("ports", []):
            if p.get("targetPort") not in ports:
                fail(f"Service {s['metadata']['name']} targets port {p.get('targetPort')}, not a container port")
    pdb = one("PodDisruptionBudget")
    if pdb.get("spec", {}).get("selector", {}).get("matchLabels", {}).items() - labels.items():
        fail("the PodDisruptionBudget does not select the pods")
    if "maxUnavailable" not in pdb.get("spec", {}) and "minAvailable" not in pdb.get("spec", {}):
        fail("the PodDisruptionBudget allows nothing")
    sm = one("ServiceMonitor")
    want = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    picked = [s for s in services if not want.items() - s["metadata"].get("labels", {}).items()]
    if len(picked) != 1:
        fail(f"the ServiceMonitor selects {len(picked)} Services (each pod would be scraped that often)")
    else:
        names = {p["name"] for p in picked[0]["spec"]["ports"]}
        for e in sm["spec"].get("endpoints", []):
            if e.get("port") not in names or e.get("path") != "/metrics":
                fail("a ServiceMonitor endpoint is not /metrics on a port of the Service")
            cred = e.get("authorization", {}).get("credentials", {})
            if cred and (cred.get("name") not in secrets or
                         cred.get("key") not in secrets[cred["name"]].get("stringData", {})):
                fail("the ServiceMonitor's token is not a key of the Secret")
    sa = one("ServiceAccount")
    if pod.get("serviceAccountName") != sa.get("metadata", {}).get("name"):
        fail("the pods do not use the ServiceAccount")
    if "iam.gke.io/gcp-service-account" not in sa.get("metadata", {}).get("annotations", {}):
        fail("the ServiceAccount has no Workload Identity annotation")

    # The configuration, with its files where the pods would see them.
    tmp = tempfile.mkdtemp(prefix="sdc-k8s.")
    try:
        here_cm, here_sec = os.path.join(tmp, "config"), os.path.join(tmp, "secrets")
        os.makedirs(here_cm)
        os.makedirs(here_sec)

        def place(text):
            return text.replace(sec_dir + "/", here_sec + "/").replace(cm_dir + "/", here_cm + "/")

        for name, text in cm["data"].items():
            with open(os.path.join(here_cm, name), "w") as f:
                f.write(place(text))
        for name in sec.get("stringData", {}):
            with open(os.path.join(here_sec, name), "w") as f:
                f.write("test-token-" + name + "\n")
        # the CA the check names: a real certificate in place of the placeholder
        shutil.copy(os.path.join(src, "tests", "deploy", "data", "test-ca.pem"),
                    os.path.join(here_sec, "webhook-ca.pem"))
        run = subprocess.run([sdconnect, "config", "check", os.path.join(here_cm, os.path.basename(cfg_path))],
                             capture_output=True, text=True, timeout=60)
        if run.returncode != 0:
            fail(f"sdconnect config check refused the ConfigMap's configuration:\n{run.stdout}{run.stderr}")
    finally:
        shutil.rmtree(tmp)

    if failures:
        for f in failures:
            print("check_k8s: " + f, file=sys.stderr)
        sys.exit(1)
    print(f"check_k8s: {len(objs)} objects in {len(files) + 1} files; references, probes, "
          f"security and the configuration check out")


if __name__ == "__main__":
    main()
