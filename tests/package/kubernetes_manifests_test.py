#!/usr/bin/python3
"""packaging/kubernetes/, checked offline: no cluster runs here.

  - The Kubernetes objects (Namespace, ServiceAccount, DaemonSet, Service)
    against the API's own types, as Debian's python3-kubernetes (22.6.0: the
    Kubernetes 1.22 API) generates them: every field must be one the type
    has (a typo such as `hostPid` fails, where an API server not asked for
    strict field validation would drop it), every value of the field's type,
    and every required field there (the models' constructors refuse a
    missing one).
  - The PodMonitor against prometheus-operator's own schema of it
    (tests/package/schemas/podmonitor-v1.schema.yaml, vendored from its CRD)
    with python3-jsonschema, unknown fields refused: the API server prunes
    them from a structural schema, so a misspelt one would be lost.
  - The plain Prometheus scrape job: its kubernetes_sd_configs against
    Prometheus's own fields (Debian's promtool is built without Kubernetes
    discovery), the rest with `promtool check config`, then its relabeling
    run by Debian's real Prometheus on the targets that Kubernetes discovery
    would make of the DaemonSet's pod (labels as Prometheus's pod role
    builds them) beside decoys: the pod's metrics port is kept, named by its
    node, and the decoys dropped.
  - Intent: the host's PID and network namespaces, exactly the capabilities
    of the systemd unit, not privileged, the port of --listen everywhere a
    port is named, the selectors matching the pod's labels, the image tag
    the project's version.
  - Each check is shown to fail on a broken copy (an unknown field, a value
    of the wrong type, a missing required field, ...), so that none passes
    for want of looking.

  kubernetes_manifests_test.py SOURCE_DIR BUILD_DIR VERSION

No root needed. Everything it writes is in one directory under BUILD_DIR,
removed at the end. Skips (77) without python3-kubernetes,
python3-jsonschema or Debian's prometheus (promtool).
"""
import copy
import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

import yaml

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import jsonschema
    import kubernetes.client as k8s
except ImportError as e:
    print("SKIP: %s (apt-get install python3-kubernetes python3-jsonschema, or tools/install-deps.sh)" % e)
    sys.exit(SKIP)
for tool in ("promtool", "prometheus"):
    if shutil.which(tool) is None:
        print("SKIP: %s not found (apt-get install prometheus, or tools/install-deps.sh)" % tool)
        sys.exit(SKIP)

sys.path.insert(0, os.path.join(HERE, "..", "metrics"))
import metrics_support as ms  # noqa: E402  (Debian's Prometheus, started and stopped)

# The objects `kubectl apply -f packaging/kubernetes/` makes, by apiVersion
# and kind, and the python3-kubernetes model of each.
CORE_MODELS = {
    ("v1", "Namespace"): "V1Namespace",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
    ("v1", "Service"): "V1Service",
    ("apps/v1", "DaemonSet"): "V1DaemonSet",
}
# The systemd unit's capabilities (packaging/tcpscope-metrics.service), as
# Kubernetes names them (without CAP_).
CAPABILITIES = {"BPF", "PERFMON", "SYS_RESOURCE"}


# -- Kubernetes objects, against python3-kubernetes's models ---------------

def check_k8s_value(value, type_name, path, errors):
    """Walks value as the model type type_name ('V1PodSpec', 'list[V1Container]',
    'dict(str, str)', 'int', ...) says it is, and appends to errors every field
    the type does not have and every value not of its type."""
    def wrong(what):
        errors.append("%s: %s, got %s %r" % (path, what, type(value).__name__, value))

    if type_name.startswith("list["):
        if not isinstance(value, list):
            return wrong("a list")
        for i, item in enumerate(value):
            check_k8s_value(item, type_name[5:-1], "%s[%d]" % (path, i), errors)
    elif type_name.startswith("dict("):
        inner = re.fullmatch(r"dict\(str, (.*)\)", type_name).group(1)
        if not isinstance(value, dict):
            return wrong("a map")
        # Resource quantities (requests, limits) are `dict(str, str)` in the
        # models, but the API takes numbers for them too (cpu: 1).
        quantity = path.rsplit(".", 1)[-1] in ("requests", "limits")
        for key, item in value.items():
            if quantity and isinstance(item, (int, float)) and not isinstance(item, bool):
                continue
            check_k8s_value(item, inner, "%s.%s" % (path, key), errors)
    elif type_name == "str":
        if not isinstance(value, str):
            wrong("a string")
    elif type_name == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            wrong("an integer")
    elif type_name == "float":
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            wrong("a number")
    elif type_name == "bool":
        if not isinstance(value, bool):
            wrong("true or false")
    elif type_name == "object":
        # What the models call `object` in these objects is IntOrString
        # (ports, maxUnavailable, maxSurge).
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            wrong("an integer or a string")
    elif type_name == "datetime":
        if not isinstance(value, str):
            wrong("a time")
    else:
        model = getattr(k8s, type_name)
        if not isinstance(value, dict):
            return wrong("an object (%s)" % type_name)
        by_json_name = {j: attr for attr, j in model.attribute_map.items()}
        for key, item in value.items():
            if key not in by_json_name:
                close = difflib.get_close_matches(key, list(by_json_name), n=1)
                errors.append("%s.%s: no such field in %s%s" % (
                    path, key, type_name, " (did you mean %s?)" % close[0] if close else ""))
                continue
            check_k8s_value(item, model.openapi_types[by_json_name[key]], "%s.%s" % (path, key), errors)


class _Body:
    """What ApiClient.deserialize reads: a response's JSON text."""
    def __init__(self, doc):
        self.data = json.dumps(doc)


def check_k8s_object(doc, where):
    """Errors of one Kubernetes object, [] when it is valid as its type says."""
    key = (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else None
    if key not in CORE_MODELS:
        return ["%s: apiVersion/kind %s is none of %s" % (where, key, sorted(CORE_MODELS))]
    errors = []
    check_k8s_value(doc, CORE_MODELS[key], where, errors)
    # Required fields: the models' constructors refuse None for them
    # (client_side_validation, on by default), nested ones included.
    try:
        k8s.ApiClient().deserialize(_Body(doc), CORE_MODELS[key])
    except (ValueError, TypeError) as e:
        errors.append("%s: %s" % (where, e))
    return errors


# -- The PodMonitor, against prometheus-operator's schema ------------------

def closed_schema(node):
    """The CRD's schema with additionalProperties: false on each object that lists
    its properties and says nothing of others: what the API server's pruning of
    a structural schema does to an unknown field, made an error."""
    if isinstance(node, list):
        return [closed_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: closed_schema(v) for k, v in node.items()}
    if "properties" in out and "additionalProperties" not in out \
            and not out.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def load_podmonitor_validator():
    with open(os.path.join(HERE, "schemas", "podmonitor-v1.schema.yaml")) as f:
        schema = closed_schema(yaml.safe_load(f))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def check_podmonitor(doc, validator, where):
    errors = ["%s: %s: %s" % (where, "/".join(str(p) for p in e.absolute_path) or "(top)", e.message)
              for e in validator.iter_errors(doc)]
    if isinstance(doc, dict):
        if (doc.get("apiVersion"), doc.get("kind")) != ("monitoring.coreos.com/v1", "PodMonitor"):
            errors.append("%s: not a monitoring.coreos.com/v1 PodMonitor" % where)
        # The schema says only `type: object` of metadata: the API's ObjectMeta.
        check_k8s_value(doc.get("metadata", {}), "V1ObjectMeta", where + ".metadata", errors)
    return errors


# -- The plain scrape job: Prometheus's own fields, promtool ---------------

def load_sd_facts():
    with open(os.path.join(HERE, "schemas", "prometheus-kubernetes-sd.schema.yaml")) as f:
        facts = yaml.safe_load(f)
    jsonschema.Draft7Validator.check_schema(facts["sd_config"])
    return facts


def check_sd_configs(config, facts, where):
    """kubernetes_sd_configs against SDConfig's fields, and the __meta_kubernetes_
    labels that relabel_configs read against those the pod role makes."""
    errors = []
    validator = jsonschema.Draft7Validator(facts["sd_config"])
    for job in config.get("scrape_configs") or []:
        name = "%s: job %s" % (where, job.get("job_name"))
        sds = job.get("kubernetes_sd_configs") or []
        for i, sd in enumerate(sds):
            for e in validator.iter_errors(sd):
                errors.append("%s: kubernetes_sd_configs[%d]/%s: %s" % (
                    name, i, "/".join(str(p) for p in e.absolute_path), e.message))
        if any(isinstance(sd, dict) and sd.get("role") == "pod" for sd in sds):
            for label in relabel_sources(job.get("relabel_configs") or []):
                if label.startswith("__meta_kubernetes_") and label not in facts["pod_role_labels"] \
                        and not any(label.startswith(p) for p in facts["pod_role_label_prefixes"]):
                    errors.append("%s: relabel_configs read %s, which the pod role does not make" % (name, label))
    return errors


def relabel_sources(rules, key="source_labels"):
    return [label for rule in rules for label in (rule.get(key) or [])]


def promtool_check(config, workdir, name):
    """`promtool check config` of config with its kubernetes_sd_configs made
    file_sd_configs on targets.json (promtool here knows no Kubernetes
    discovery); [] or promtool's complaint."""
    derived = copy.deepcopy(config)
    for job in derived.get("scrape_configs") or []:
        if job.pop("kubernetes_sd_configs", None) is not None:
            job["file_sd_configs"] = [{"files": ["targets.json"]}]
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        yaml.safe_dump(derived, f)
    r = subprocess.run(["promtool", "check", "config", path], capture_output=True, text=True, cwd=workdir)
    return [] if r.returncode == 0 else ["promtool check config: %s" % (r.stdout + r.stderr).strip()]


def sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def pod_role_targets(template, namespace, pod_name, node, phase, address_ip):
    """The targets Prometheus's Kubernetes discovery (role: pod, v2.42.0's
    discovery/kubernetes/pod.go) makes of a running pod of this template: one
    per container port, with the pod's labels."""
    labels = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": pod_name,
        "__meta_kubernetes_pod_ip": address_ip,
        "__meta_kubernetes_pod_ready": "true",
        "__meta_kubernetes_pod_phase": phase,
        "__meta_kubernetes_pod_node_name": node,
        "__meta_kubernetes_pod_host_ip": address_ip,
        "__meta_kubernetes_pod_uid": "0f6a1c2e-7d3b-4f3e-9a51-%012d" % zlib.crc32(pod_name.encode()),
        "__meta_kubernetes_pod_controller_kind": "DaemonSet",
        "__meta_kubernetes_pod_controller_name": "tcpscope",
    }
    for key, value in template["metadata"].get("labels", {}).items():
        labels["__meta_kubernetes_pod_label_" + sanitize(key)] = value
        labels["__meta_kubernetes_pod_labelpresent_" + sanitize(key)] = "true"
    groups = []
    for c in template["spec"]["containers"]:
        for p in c.get("ports", []):
            target = dict(labels)
            target.update({
                "__meta_kubernetes_pod_container_name": c["name"],
                "__meta_kubernetes_pod_container_image": c["image"],
                "__meta_kubernetes_pod_container_port_number": str(p["containerPort"]),
                "__meta_kubernetes_pod_container_port_name": p.get("name", ""),
                "__meta_kubernetes_pod_container_port_protocol": p.get("protocol", "TCP"),
                "__meta_kubernetes_pod_container_init": "false",
            })
            groups.append({"targets": ["%s:%d" % (address_ip, p["containerPort"])], "labels": target})
    return groups


def relabeling_in_prometheus(config, template, namespace, workdir):
    """Runs the scrape job's relabeling in Debian's Prometheus on what
    Kubernetes discovery would make of the DaemonSet's pod on node-a, and of
    decoys: the same pod with a second port, another workload's pod on the
    same node, a failed tcpscope pod. Returns errors."""
    decoy_template = copy.deepcopy(template)
    decoy_template["spec"]["containers"][0]["ports"].append(
        {"name": "debug", "containerPort": 6060, "protocol": "TCP"})
    other = copy.deepcopy(template)
    other["metadata"]["labels"] = {"app.kubernetes.io/name": "node-exporter"}
    groups = (pod_role_targets(decoy_template, namespace, "tcpscope-a1b2c", "node-a", "Running", "127.0.0.2")
              + pod_role_targets(other, namespace, "node-exporter-x9z8", "node-a", "Running", "127.0.0.3")
              + pod_role_targets(template, namespace, "tcpscope-f4i1d", "node-b", "Failed", "127.0.0.4"))
    with open(os.path.join(workdir, "targets.json"), "w") as f:
        json.dump(groups, f)
    derived = copy.deepcopy(config)
    for job in derived["scrape_configs"]:
        job.pop("kubernetes_sd_configs", None)
        job["file_sd_configs"] = [{"files": ["targets.json"]}]
    prometheus = ms.Prometheus(workdir, yaml.safe_dump(derived))
    try:
        # Discovery hands targets over every 5 s.
        deadline = time.time() + 30
        while True:
            data = json.loads(ms.fetch(prometheus.url + "/api/v1/targets")[2])["data"]
            if data["activeTargets"] or time.time() > deadline:
                break
            time.sleep(0.5)
    finally:
        prometheus.stop()
    errors = []
    active = [t["labels"] for t in data["activeTargets"]]
    port = template["spec"]["containers"][0]["ports"][0]["containerPort"]
    want = {"job": "tcpscope", "instance": "node-a", "node": "node-a", "namespace": namespace,
            "pod": "tcpscope-a1b2c"}
    if len(active) != 1 or active[0] != want:
        errors.append("relabeling: want one target %s, got %s" % (want, active))
    kept_address = [t["discoveredLabels"]["__address__"] for t in data["activeTargets"]]
    if kept_address != ["127.0.0.2:%d" % port]:
        errors.append("relabeling: want the metrics port 127.0.0.2:%d scraped, got %s" % (port, kept_address))
    if len(data["droppedTargets"]) != len(groups) - 1:
        errors.append("relabeling: want %d targets dropped, got %d" % (len(groups) - 1, len(data["droppedTargets"])))
    return errors


# -- Intent -----------------------------------------------------------------

def listen_port(args):
    for i, a in enumerate(args):
        if a.startswith("--listen="):
            return int(a.rsplit(":", 1)[1])
        if a == "--listen" and i + 1 < len(args):
            return int(args[i + 1].rsplit(":", 1)[1])
    return 19979  # tcpscope's default port (docs/metrics.md)


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_intent(objects, podmonitor, version):
    """What the manifests are for, as opposed to what the API allows."""
    errors = []
    def need(ok, what):
        if not ok:
            errors.append("intent: " + what)

    by_kind = {}
    for doc in objects:
        by_kind.setdefault(doc.get("kind"), []).append(doc)
    need(sorted(by_kind) == ["DaemonSet", "Namespace", "Service", "ServiceAccount"]
         and all(len(v) == 1 for v in by_kind.values()),
         "one each of Namespace, ServiceAccount, DaemonSet, Service (got %s)"
         % {k: len(v) for k, v in by_kind.items()})
    if errors:
        return errors
    (ns,), (sa,), (ds,), (svc,) = (by_kind[k] for k in ("Namespace", "ServiceAccount", "DaemonSet", "Service"))
    namespace = ns["metadata"]["name"]
    for doc in (sa, ds, svc, podmonitor):
        need(doc["metadata"].get("namespace") == namespace,
             "%s %s in namespace %s" % (doc["kind"], doc["metadata"].get("name"), namespace))
    need(ns["metadata"].get("labels", {}).get("pod-security.kubernetes.io/enforce") == "privileged",
         "the namespace admits hostPID/hostNetwork/BPF (pod-security enforce: privileged)")
    need(sa.get("automountServiceAccountToken") is False, "the ServiceAccount mounts no token")

    template = ds["spec"]["template"]
    pod = template["spec"]
    labels = template["metadata"].get("labels", {})
    need(pod.get("hostPID") is True, "hostPID: true")
    need(pod.get("hostNetwork") is True, "hostNetwork: true")
    need(pod.get("automountServiceAccountToken") is False, "the pod mounts no token")
    need(pod.get("serviceAccountName") == sa["metadata"]["name"], "the pod runs as the ServiceAccount")
    need({"operator": "Exists"} in pod.get("tolerations", []), "a toleration of every taint")
    need(selects(ds["spec"]["selector"].get("matchLabels"), labels), "the DaemonSet's selector matches its pods")
    need(ds["spec"]["updateStrategy"]["rollingUpdate"].get("maxSurge") in (0, "0", "0%"),
         "no surge (two pods would bind the same node port)")
    need(len(pod["containers"]) == 1, "one container")
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    need(sc.get("privileged") is not True, "not privileged")
    need(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation: false")
    need(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem: true")
    need(sc.get("runAsUser") == 0, "runAsUser: 0 (added capabilities are not ambient)")
    caps = sc.get("capabilities", {})
    need(caps.get("drop") == ["ALL"], "capabilities drop ALL (got %s)" % caps.get("drop"))
    need(set(caps.get("add", [])) == CAPABILITIES and len(caps.get("add", [])) == len(CAPABILITIES),
         "capabilities added exactly %s (got %s)" % (sorted(CAPABILITIES), caps.get("add")))
    need(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "the runtime's default seccomp profile")
    need(not pod.get("volumes") and not c.get("volumeMounts"), "no volumes (nothing of the host's is mounted)")

    args = (c.get("command") or []) + (c.get("args") or [])
    need(args[:2] == ["/usr/bin/tcpscope", "metrics"], "runs /usr/bin/tcpscope metrics (got %s)" % args[:2])
    port = listen_port(args)
    ports = c.get("ports", [])
    need(len(ports) == 1, "one container port")
    if ports:
        p = ports[0]
        need(p["containerPort"] == port, "containerPort %s is --listen's %d" % (p["containerPort"], port))
        need(p.get("hostPort", port) == port, "hostPort %s is --listen's %d" % (p.get("hostPort"), port))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            get = c.get(probe, {}).get("httpGet", {})
            need(get.get("port") in (p.get("name"), port) and get.get("path") == "/",
                 "%s asks / on the metrics port (got %s)" % (probe, get))
        need(svc["spec"].get("clusterIP") == "None", "the Service is headless")
        need(selects(svc["spec"].get("selector"), labels), "the Service's selector matches the pods")
        need([sp.get("targetPort") for sp in svc["spec"]["ports"]] in ([p.get("name")], [port]),
             "the Service's targetPort is the metrics port")
        spec = podmonitor["spec"]
        need(selects(spec["selector"].get("matchLabels"), labels), "the PodMonitor's selector matches the pods")
        need(spec.get("namespaceSelector", {}).get("matchNames") == [namespace], "the PodMonitor looks in %s" % namespace)
        endpoints = spec.get("podMetricsEndpoints", [])
        need([e.get("port") for e in endpoints] == [p.get("name")],
             "the PodMonitor scrapes the port named %s (got %s)" % (p.get("name"), [e.get("port") for e in endpoints]))
        for e in endpoints:
            names_node = {(tuple(r.get("sourceLabels", [])), r.get("targetLabel")) for r in e.get("relabelings", [])}
            need(names_node >= {(("__meta_kubernetes_pod_node_name",), "node"),
                                (("__meta_kubernetes_pod_node_name",), "instance")},
                 "the PodMonitor names the node as node and instance")
    limits = c.get("resources", {}).get("limits", {})
    requests = c.get("resources", {}).get("requests", {})
    need("memory" in limits and requests.get("memory") == limits.get("memory"),
         "a memory limit, requested in full (the kernel's BPF memory is charged to it)")
    image = c.get("image", "")
    need(image.rsplit(":", 1)[-1] == version, "the image tag is the project's version %s (got %s)" % (version, image))
    return errors


# -- The run ------------------------------------------------------------------

def load_yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    source_dir, build_dir, version = sys.argv[1:]
    kube_dir = os.path.join(source_dir, "packaging", "kubernetes")
    failures = []

    def check(ok, what):
        print("%s: %s" % ("ok" if ok else "FAIL", what))
        if not ok:
            failures.append(what)

    def expect_clean(errors, what):
        for e in errors:
            print("  " + e)
        check(not errors, what)

    def expect_caught(errors, needle, what):
        """A broken copy must be refused, for the reason it was broken."""
        hit = [e for e in errors if needle in e]
        check(bool(hit), "refused: %s (%s)" % (what, hit[0] if hit else "errors: %s" % errors))

    # What `kubectl apply -f packaging/kubernetes/` applies: its files, in order.
    core_files = sorted(glob.glob(os.path.join(kube_dir, "*.yaml")))
    objects = []
    for path in core_files:
        for doc in load_yaml_docs(path):
            objects.append(doc)
            where = "%s %s" % (os.path.relpath(path, source_dir), doc.get("kind"))
            expect_clean(check_k8s_object(doc, where), where + ": valid against the Kubernetes API's types")
    check(len(objects) == 4, "packaging/kubernetes/ holds 4 objects (got %d)" % len(objects))
    check(objects and objects[0].get("kind") == "Namespace",
          "the Namespace comes first (kubectl applies the files in name order)")

    pm_path = os.path.join(kube_dir, "prometheus-operator", "podmonitor.yaml")
    (podmonitor,) = load_yaml_docs(pm_path)
    pm_validator = load_podmonitor_validator()
    expect_clean(check_podmonitor(podmonitor, pm_validator, "podmonitor.yaml"),
                 "podmonitor.yaml valid against prometheus-operator's PodMonitor schema")

    facts = load_sd_facts()
    scrape_path = os.path.join(kube_dir, "prometheus", "tcpscope-scrape.yml")
    (scrape,) = load_yaml_docs(scrape_path)
    expect_clean(check_sd_configs(scrape, facts, "tcpscope-scrape.yml"),
                 "tcpscope-scrape.yml's kubernetes_sd_configs and the labels it reads are Prometheus's")
    for label in relabel_sources(
            [r for e in podmonitor["spec"]["podMetricsEndpoints"] for r in e.get("relabelings", [])],
            key="sourceLabels"):
        check(label in facts["pod_role_labels"], "the PodMonitor's relabeling reads %s, a pod-role label" % label)

    daemonset = next((d for d in objects if d.get("kind") == "DaemonSet"), None)
    namespace = next((d["metadata"]["name"] for d in objects if d.get("kind") == "Namespace"), None)
    expect_clean(check_intent(objects, podmonitor, version), "the manifests do what docs/kubernetes.md says")

    workdir = tempfile.mkdtemp(prefix="k8s-manifests-test.", dir=build_dir)
    try:
        with open(os.path.join(workdir, "targets.json"), "w") as f:
            json.dump([], f)
        expect_clean(promtool_check(scrape, workdir, "scrape.yml"),
                     "promtool check config: tcpscope-scrape.yml (discovery aside)")
        expect_clean(relabeling_in_prometheus(scrape, daemonset["spec"]["template"], namespace, workdir),
                     "Prometheus keeps the DaemonSet pod's metrics port, named by its node, and drops the decoys")

        # -- Each check refuses a broken copy ------------------------------
        def broken(doc, change):
            d = copy.deepcopy(doc)
            change(d)
            return d

        def container(d):
            return d["spec"]["template"]["spec"]["containers"][0]

        def rename(d, old, new):
            d[new] = d.pop(old)

        where = "DaemonSet"
        expect_caught(check_k8s_object(broken(daemonset, lambda d: rename(d["spec"]["template"]["spec"], "hostPID", "hostPid")), where),
                      "spec.hostPid: no such field", "an unknown field (hostPid)")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: container(d)["securityContext"]["capabilities"].update(ad=["BPF"])), where),
                      "capabilities.ad: no such field", "an unknown nested field (capabilities.ad)")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: d["spec"]["template"]["spec"].update(hostNetwork="true")), where),
                      "hostNetwork: true or false", "a string for a boolean (hostNetwork: \"true\")")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: container(d)["ports"][0].update(containerPort="19979")), where),
                      "containerPort: an integer", "a string for an integer (containerPort)")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: container(d).pop("name")), where),
                      "`name`, must not be `None`", "a missing required field (the container's name)")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: d["spec"].pop("selector")), where),
                      "`selector`, must not be `None`", "a missing required field (spec.selector)")
        expect_caught(check_k8s_object(broken(daemonset, lambda d: d.update(kind="Daemonset")), where),
                      "is none of", "an unknown kind (Daemonset)")

        def pm_endpoint(d):
            return d["spec"]["podMetricsEndpoints"][0]
        expect_caught(check_podmonitor(broken(podmonitor, lambda d: rename(pm_endpoint(d), "relabelings", "relabellings")), pm_validator, "PodMonitor"),
                      "'relabellings' was unexpected", "a PodMonitor's unknown field (relabellings)")
        expect_caught(check_podmonitor(broken(podmonitor, lambda d: pm_endpoint(d).update(interval=15)), pm_validator, "PodMonitor"),
                      "15 is not of type 'string'", "a PodMonitor's number for a duration (interval: 15)")
        expect_caught(check_podmonitor(broken(podmonitor, lambda d: pm_endpoint(d).update(interval="15 s")), pm_validator, "PodMonitor"),
                      "does not match", "a PodMonitor's malformed duration (interval: 15 s)")
        expect_caught(check_podmonitor(broken(podmonitor, lambda d: d["spec"].pop("selector")), pm_validator, "PodMonitor"),
                      "'selector' is a required property", "a PodMonitor's missing required field (spec.selector)")
        expect_caught(check_podmonitor(broken(podmonitor, lambda d: d["metadata"].update(namespce="x")), pm_validator, "PodMonitor"),
                      "metadata.namespce: no such field", "a PodMonitor's unknown metadata field")

        def sd(d):
            return d["scrape_configs"][0]["kubernetes_sd_configs"][0]
        expect_caught(check_sd_configs(broken(scrape, lambda d: sd(d).update(role="pods")), facts, "scrape"),
                      "'pods' is not one of", "a Kubernetes discovery role Prometheus has not (pods)")
        expect_caught(check_sd_configs(broken(scrape, lambda d: rename(sd(d), "namespaces", "namespace")), facts, "scrape"),
                      "'namespace' was unexpected", "an unknown kubernetes_sd_configs field (namespace)")
        expect_caught(check_sd_configs(broken(scrape, lambda d: d["scrape_configs"][0]["relabel_configs"][0].update(
                          source_labels=["__meta_kubernetes_pod_nodename"])), facts, "scrape"),
                      "which the pod role does not make", "a relabeling that reads a label discovery never makes")
        expect_caught(promtool_check(broken(scrape, lambda d: d["scrape_configs"][0]["relabel_configs"][0].update(action="kep")), workdir, "broken.yml"),
                      "promtool check config", "promtool: an unknown relabel action (kep)")

        def objects_with(change):
            return [broken(d, change) if d.get("kind") == "DaemonSet" else d for d in objects]
        expect_caught(check_intent(objects_with(lambda d: container(d)["securityContext"]["capabilities"]["add"].append("SYS_ADMIN")), podmonitor, version),
                      "capabilities added exactly", "intent: one capability more (SYS_ADMIN)")
        expect_caught(check_intent(objects_with(lambda d: container(d)["securityContext"].update(privileged=True)), podmonitor, version),
                      "not privileged", "intent: privileged: true")
        expect_caught(check_intent(objects_with(lambda d: container(d)["args"].__setitem__(1, "--listen=0.0.0.0:9100")), podmonitor, version),
                      "is --listen's 9100", "intent: --listen on another port than the containerPort")
        expect_caught(check_intent(objects_with(lambda d: d["spec"]["template"]["spec"].pop("hostPID")), podmonitor, version),
                      "hostPID: true", "intent: no hostPID")
        expect_caught(check_intent(objects, broken(podmonitor, lambda d: pm_endpoint(d).update(port="http")), version),
                      "scrapes the port named metrics", "intent: the PodMonitor on another port name")
        expect_caught(check_intent(objects, podmonitor, version + ".1"),
                      "the image tag is the project's version", "intent: an image tag that is not the version")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
