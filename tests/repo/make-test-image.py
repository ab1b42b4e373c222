"""Write a tiny OCI image archive for side-loading tests (no registry, no Docker needed).

Usage: python3 make-test-image.py OUT.tar [NAME] [SIZE_MB]
       (NAME defaults to docker.io/kubelab/side-load-test:1; SIZE_MB adds a file of that many MB)

The image has one layer holding /kubelab-side-load-test.txt and the host's platform
(linux/amd64 or linux/arm64), so `ctr -n k8s.io images import OUT.tar` imports and unpacks
it. The archive is byte-for-byte reproducible, so reruns do not look like a new archive.
With SIZE_MB (the benchmark's large archive) the layer also holds /kubelab-payload.bin, that
many MB of seeded pseudo-random bytes: incompressible like real image layers, and the same
on every run.
"""

import hashlib
import io
import json
import os
import platform
import random
import sys
import tarfile

MTIME = 1700000000


def _tar_bytes(members):
    """Return an uncompressed tar of (name, bytes) members with fixed metadata."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = MTIME
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _blob(data):
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def build(name, size_mb=0):
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    files = [("kubelab-side-load-test.txt", b"side-loaded by kubelab.cluster tests\n")]
    if size_mb:
        seeded = random.Random(size_mb)
        files.append(("kubelab-payload.bin", b"".join(seeded.randbytes(1024 * 1024) for _chunk in range(size_mb))))
    layer_digest, layer = _blob(_tar_bytes(files))
    config_digest, config = _blob(json.dumps({
        "architecture": arch,
        "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    }, sort_keys=True).encode())
    manifest_digest, manifest = _blob(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": len(layer)}],
    }, sort_keys=True).encode())
    index = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"},
            "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]},
        }],
    }, sort_keys=True).encode()
    members = [("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", index)]
    for digest, data in ((layer_digest, layer), (config_digest, config), (manifest_digest, manifest)):
        members.append(("blobs/sha256/" + digest.split(":", 1)[1], data))
    return _tar_bytes(members)


def main(argv):
    if len(argv) not in (1, 2, 3) or (len(argv) == 3 and not argv[2].isdigit()):
        sys.stderr.write(__doc__)
        return 2
    out = argv[0]
    data = build(argv[1] if len(argv) >= 2 else "docker.io/kubelab/side-load-test:1", int(argv[2]) if len(argv) == 3 else 0)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    if os.path.exists(out) and open(out, "rb").read() == data:
        return 0
    with open(out, "wb") as handle:
        handle.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
