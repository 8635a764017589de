"""The Kubernetes manifests in deploy/kubernetes: valid against the API's schemas (strict:
an unknown or misspelt field fails), and shaped as `hostmem serve` needs on a node (the
host's PIDs, /proc and /sys read-only under /host, --root /host), which the container test
`Tests/Containers` runs for real with podman. kubernetes-validate (PyPI) carries the schemas,
so no cluster is needed; skipped, with the reason, where it is not installed."""
import glob
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFESTS = sorted(glob.glob(os.path.join(HERE, "..", "kubernetes", "*.yaml")))
# pip puts it beside the interpreter running the tests, which need not be on PATH
VALIDATE = shutil.which("kubernetes-validate") or shutil.which("kubernetes-validate", path=os.path.dirname(sys.executable))


def validate(path):
    if VALIDATE is None:
        pytest.skip("kubernetes-validate is not installed (pip install kubernetes-validate)")
    return subprocess.run([VALIDATE, "--strict", path], capture_output=True, text=True)


@pytest.mark.parametrize("path", MANIFESTS, ids=os.path.basename)
def test_manifest_is_valid_against_the_api_schemas(path):
    result = validate(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_a_misspelt_field_fails_strict_validation(tmp_path):
    """The check can fail: the DaemonSet with hostPID misspelt."""
    with open(os.path.join(HERE, "..", "kubernetes", "daemonset.yaml")) as source:
        text = source.read()
    assert "hostPID: true" in text
    broken = tmp_path / "daemonset.yaml"
    broken.write_text(text.replace("hostPID: true", "hostPIDs: true"))
    assert validate(str(broken)).returncode != 0


def test_the_daemonset_runs_serve_as_the_container_test_does():
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(HERE, "..", "kubernetes", "daemonset.yaml")) as source:
        spec = yaml.safe_load(source)["spec"]["template"]["spec"]
    container = spec["containers"][0]
    args = container["args"]
    assert spec["hostPID"] is True
    assert args[0] == "serve" and args[args.index("--root") + 1] == "/host"
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    assert mounts["/host/proc"]["readOnly"] and mounts["/host/sys"]["readOnly"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    assert volumes[mounts["/host/proc"]["name"]]["hostPath"]["path"] == "/proc"
    assert volumes[mounts["/host/sys"]["name"]]["hostPath"]["path"] == "/sys"
    assert container["ports"][0]["containerPort"] == int(args[args.index("--listen") + 1].rsplit(":", 1)[1])
