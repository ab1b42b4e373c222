"""Small real image archives for the image_load tests, built with tarfile.

The layouts follow the formats' own field names:

- ``docker_save_legacy``: what ``docker save`` of Docker before 25 writes (observed with
  Debian's docker.io 20.10): ``<v1 id>/{VERSION,json,layer.tar}``, the config as
  ``<config hex>.json``, ``manifest.json`` (``Config``, ``RepoTags``, ``Layers``) and
  ``repositories``.
- ``docker_save_oci``: Docker 25 and later (moby image/tarexport/save.go): blobs under
  ``blobs/sha256/``, ``manifest.json`` pointing into them, ``oci-layout`` and an
  ``index.json`` with one entry per tag annotated ``io.containerd.image.name`` (the full
  name) and ``org.opencontainers.image.ref.name`` (the tag).
- ``oci_layout``: the OCI image layout spec (``oci-layout`` with ``imageLayoutVersion``,
  ``index.json``, ``blobs/<alg>/<hex>``), with single manifests or nested indexes.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

MTIME = 1700000000
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hexa(value):
    return value.split(":", 1)[1]


def tar_bytes(members, prefix=""):
    """An uncompressed tar of ``(name, bytes)`` members (``(name, None)`` for a directory,
    ``(name, "->target")`` for a symlink)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(prefix + name)
            info.mtime = MTIME
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            elif isinstance(data, str) and data.startswith("->"):
                info.type = tarfile.SYMTYPE
                info.linkname = data[2:]
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def layer(text="hello\n", size=0):
    """A layer tar holding one file; ``size`` pads it with zero bytes."""
    return tar_bytes([("hello.txt", text.encode() + b"\0" * size)])


def config(arch="amd64", os_name="linux", variant=None, cmd="/bin/true", layers=()):
    doc = {
        "architecture": arch,
        "os": os_name,
        "config": {"Cmd": [cmd]},
        "rootfs": {"type": "layers", "diff_ids": [digest(item) for item in layers]},
    }
    if variant:
        doc["variant"] = variant
    return json.dumps(doc, sort_keys=True).encode()


def manifest(config_bytes, layers, config_type=OCI_CONFIG, media_type=OCI_MANIFEST):
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": config_type, "digest": digest(config_bytes), "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER, "digest": digest(item), "size": len(item)} for item in layers],
    }, sort_keys=True).encode()


def docker_save_legacy(images, prefix=""):
    """``images``: ``[(repo_tags, config_bytes, layer_bytes)]``."""
    members = []
    manifest_items = []
    repositories = {}
    for repo_tags, config_bytes, layer_bytes in images:
        v1_id = hashlib.sha256(b"v1" + config_bytes).hexdigest()
        config_name = hexa(digest(config_bytes)) + ".json"
        members += [
            (v1_id + "/", None),
            (v1_id + "/VERSION", b"1.0"),
            (v1_id + "/json", json.dumps({"id": v1_id}).encode()),
            (v1_id + "/layer.tar", layer_bytes),
            (config_name, config_bytes),
        ]
        manifest_items.append({"Config": config_name, "RepoTags": repo_tags, "Layers": [v1_id + "/layer.tar"]})
        for tag in repo_tags or []:
            repo, _sep, version = tag.rpartition(":")
            repositories.setdefault(repo, {})[version] = v1_id
    members.append(("manifest.json", json.dumps(manifest_items).encode()))
    if repositories:
        members.append(("repositories", json.dumps(repositories).encode()))
    return tar_bytes(members, prefix)


def docker_save_oci(images):
    """Docker 25+ ``docker save``: ``images`` is ``[(familiar tags, full names, config, layer)]``."""
    members = [("blobs/", None), ("blobs/sha256/", None)]
    manifest_items = []
    descriptors = []
    for tags, full_names, config_bytes, layer_bytes in images:
        manifest_bytes = manifest(config_bytes, [layer_bytes])
        for data in (layer_bytes, config_bytes, manifest_bytes):
            members.append(("blobs/sha256/" + hexa(digest(data)), data))
        manifest_items.append({
            "Config": "blobs/sha256/" + hexa(digest(config_bytes)),
            "RepoTags": tags,
            "Layers": ["blobs/sha256/" + hexa(digest(layer_bytes))],
        })
        for full in full_names:
            descriptors.append({
                "mediaType": OCI_MANIFEST,
                "digest": digest(manifest_bytes),
                "size": len(manifest_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": full,
                    "org.opencontainers.image.ref.name": full.rsplit(":", 1)[1],
                },
            })
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descriptors}
    members += [
        ("index.json", json.dumps(index).encode()),
        ("manifest.json", json.dumps(manifest_items).encode()),
        ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
    ]
    return tar_bytes(members)


def oci_layout(entries, blobs, version="1.0.0", prefix=""):
    """An OCI image layout: ``entries`` are index.json descriptors, ``blobs`` the blob contents."""
    members = [("oci-layout", json.dumps({"imageLayoutVersion": version}).encode())]
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    members.append(("index.json", json.dumps(index).encode()))
    for data in blobs:
        members.append(("blobs/sha256/" + hexa(digest(data)), data))
    return tar_bytes(members, prefix)


def single_image(name=None, ref_name=None, arch="amd64", cmd="/bin/true", layer_size=0, platform=True):
    """``(entry, blobs, config_digest, manifest_digest)`` of a one-platform OCI image."""
    layer_bytes = layer(cmd, layer_size)
    config_bytes = config(arch=arch, cmd=cmd, layers=[layer_bytes])
    manifest_bytes = manifest(config_bytes, [layer_bytes])
    annotations = {}
    if name:
        annotations["io.containerd.image.name"] = name
    if ref_name:
        annotations["org.opencontainers.image.ref.name"] = ref_name
    entry = {"mediaType": OCI_MANIFEST, "digest": digest(manifest_bytes), "size": len(manifest_bytes)}
    if platform:
        entry["platform"] = {"architecture": arch, "os": "linux"}
    if annotations:
        entry["annotations"] = annotations
    return entry, [layer_bytes, config_bytes, manifest_bytes], digest(config_bytes), digest(manifest_bytes)


def multi_platform_image(name, platforms, present=None, attestation=False):
    """A nested index over one manifest per ``(arch, variant)``; ``present`` limits the blobs written.

    Returns ``(entry, blobs, {platform string: config digest})``.
    """
    blobs = []
    children = []
    ids = {}
    for arch, variant in platforms:
        layer_bytes = layer("%s%s" % (arch, variant or ""))
        config_bytes = config(arch=arch, variant=variant, layers=[layer_bytes])
        manifest_bytes = manifest(config_bytes, [layer_bytes])
        platform = {"architecture": arch, "os": "linux"}
        if variant:
            platform["variant"] = variant
        children.append({"mediaType": OCI_MANIFEST, "digest": digest(manifest_bytes), "size": len(manifest_bytes),
                         "platform": platform})
        key = "linux/%s%s" % (arch, "/" + variant if variant else "")
        if present is None or key in present:
            blobs += [layer_bytes, config_bytes, manifest_bytes]
        ids[key] = digest(config_bytes)
    if attestation:
        statement = b'{"_type": "https://in-toto.io/Statement/v0.1"}'
        attest_config = b'{"architecture": "unknown", "os": "unknown"}'
        attest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                             "config": {"mediaType": OCI_CONFIG, "digest": digest(attest_config),
                                        "size": len(attest_config)},
                             "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": digest(statement),
                                         "size": len(statement)}]}).encode()
        children.append({"mediaType": OCI_MANIFEST, "digest": digest(attest), "size": len(attest),
                         "platform": {"architecture": "unknown", "os": "unknown"}})
        blobs += [statement, attest_config, attest]
    index_bytes = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children}).encode()
    blobs.append(index_bytes)
    entry = {"mediaType": OCI_INDEX, "digest": digest(index_bytes), "size": len(index_bytes),
             "annotations": {"io.containerd.image.name": name}}
    return entry, blobs, ids
