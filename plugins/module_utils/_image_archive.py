# -*- coding: utf-8 -*-
# Copyright: kubelab.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for the image_load action and module (Python standard library only).

- ``read_archive``: the images a container image archive holds, read from the tar headers
  and the small JSON members only (layer blobs are seeked past, never read or hashed).
  Both layouts ``ctr images import`` understands: the OCI image layout (``oci-layout``,
  ``index.json``, ``blobs/<alg>/<hex>``; Docker 25 and later also write it) and the older
  ``docker save`` layout (``manifest.json`` with ``Config`` and ``RepoTags``).
- The names ``ctr images import`` gives the images, following containerd 1.6/1.7: an OCI index
  entry is named by its ``io.containerd.image.name`` annotation as written, else by its
  ``org.opencontainers.image.ref.name`` when that is a full reference; ``docker save`` tags are
  normalized (``app:1`` becomes ``docker.io/library/app:1``).
- ``parse_images_list`` and ``manifest_step``: what the node has, from ``ctr images ls`` (name,
  media type and target digest per image) and from the manifests ``ctr content get`` prints.
- ``NodeImages`` and ``plan_images``: which wanted image is present by ID (the config digest,
  what ``crictl images`` shows as IMAGE ID), which only lacks a name (a tag does), and which has
  to be imported.

Nothing here runs a command: the module and the action plugin pass in what they read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pylint: disable=invalid-name

import hashlib
import json
import posixpath
import re
import tarfile

ANNOTATION_IMAGE_NAME = "io.containerd.image.name"
ANNOTATION_REF_NAME = "org.opencontainers.image.ref.name"
OCI_LAYOUT_VERSION = "1.0.0"
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
# The JSON members are small (a config is a few KiB); anything bigger is not an image archive.
MAX_JSON = 8 * 1024 * 1024
DIGEST_RE = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)
# Reference grammar of distribution/reference (the parts a name is checked against).
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
DOMAIN_RE = re.compile(r"^%s(?:\.%s)*(?::[0-9]+)?$" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT))
PATH_RE = re.compile(r"^%s(?:/%s)*$" % (_PATH_COMPONENT, _PATH_COMPONENT))
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
HEX64_RE = re.compile(r"^[a-f0-9]{64}$")
# uname -m -> GOARCH and variant, as containerd's default platform has them.
MACHINE_PLATFORMS = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8l": "arm/v8",
    "armv7l": "arm/v7",
    "armv6l": "arm/v6",
    "i386": "386",
    "i486": "386",
    "i586": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
    "mips64": "mips64",
    "loongarch64": "loong64",
}
ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "i386": "386", "i686": "386"}


def argument_spec():
    """Options of kubelab.cluster.image_load, shared by the module and its action plugin."""
    return dict(
        src=dict(type="list", elements="path", default=[]),
        remote_src=dict(type="bool", default=False),
        dest_dir=dict(type="path"),
        keep_archive=dict(type="bool", default=False),
        namespace=dict(type="str", default="k8s.io"),
        ctr_path=dict(type="str", default="ctr"),
        address=dict(type="path", default="/run/containerd/containerd.sock"),
        images=dict(type="list", elements="dict", default=[], options=dict(
            names=dict(type="list", elements="str", required=True),
            id=dict(type="str"),
            platform_ids=dict(type="dict"),
            target=dict(type="str"),
        )),
        query=dict(type="bool", default=False),
    )


class ArchiveError(Exception):
    """The file is not an image archive ``ctr images import`` reads, or is damaged."""


class ReferenceFormatError(ValueError):
    """An image name that is not a valid reference."""


# ---------------------------------------------------------------------------
# Image names and platforms
# ---------------------------------------------------------------------------

def normalize_reference(ref):
    """The full name containerd stores for a Docker-style reference (``docker save``'s RepoTags).

    ``app`` -> ``docker.io/library/app:latest``, ``me/app:1`` -> ``docker.io/me/app:1``,
    ``registry:5000/app@sha256:...`` keeps its domain and digest (a tag next to a digest is
    dropped, as containerd does). Raises ReferenceFormatError for what containerd would refuse.
    """
    if not isinstance(ref, str) or not ref or ref != ref.strip():
        raise ReferenceFormatError("invalid reference %r" % (ref,))
    if HEX64_RE.match(ref):
        raise ReferenceFormatError("%s is an image ID (64 hexadecimal digits), not a name" % ref)
    name, digest = ref, None
    if "@" in name:
        name, digest = name.split("@", 1)
        if not DIGEST_RE.match(digest):
            raise ReferenceFormatError("invalid digest in reference %r" % ref)
    tag = None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1:]
        if not TAG_RE.match(tag):
            raise ReferenceFormatError("invalid tag in reference %r" % ref)
    first, sep, rest = name.partition("/")
    if sep and (("." in first or ":" in first) or first == "localhost"):
        domain, remainder = first, rest
    else:
        domain, remainder = "docker.io", name
    if domain == "index.docker.io":
        domain = "docker.io"
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    if not DOMAIN_RE.match(domain):
        raise ReferenceFormatError("invalid registry %r in reference %r" % (domain, ref))
    if not PATH_RE.match(remainder):
        raise ReferenceFormatError("invalid repository name %r in reference %r (lowercase letters, digits and "
                                   "separators)" % (remainder, ref))
    full = domain + "/" + remainder
    if digest:
        return full + "@" + digest
    return full + ":" + (tag or "latest")


def is_normalized(name):
    """Whether ``name`` is already the full form CRI looks images up by."""
    try:
        return normalize_reference(name) == name
    except ReferenceFormatError:
        return False


def normalize_platform(os_name, architecture, variant=None):
    """``os/arch[/variant]`` the way containerd compares platforms, or "" when unknown."""
    os_name = (os_name or "").lower()
    architecture = (architecture or "").lower()
    variant = (variant or "").lower()
    if not os_name or not architecture:
        return ""
    architecture = ARCH_ALIASES.get(architecture, architecture)
    if architecture == "armhf":
        architecture, variant = "arm", "v7"
    elif architecture == "armel":
        architecture, variant = "arm", "v6"
    if architecture == "arm64" and variant in ("v8", "8"):
        variant = ""
    if architecture == "arm" and not variant:
        variant = "v7"
    if variant and not variant.startswith("v") and variant.isdigit():
        variant = "v" + variant
    return "/".join(part for part in (os_name, architecture, variant) if part)


def platform_of(spec):
    """Normalized platform string of an OCI platform object (a dict), "" when absent."""
    if not isinstance(spec, dict):
        return ""
    return normalize_platform(spec.get("os"), spec.get("architecture"), spec.get("variant"))


def node_platform(machine, os_name="linux"):
    """containerd's default platform on a node whose ``uname -m`` is ``machine``."""
    arch = MACHINE_PLATFORMS.get((machine or "").lower(), (machine or "").lower())
    parts = arch.split("/", 1)
    return normalize_platform(os_name, parts[0], parts[1] if len(parts) > 1 else None)


def select_id(platform_ids, platform):
    """The image ID for ``platform`` out of ``{platform: id}``; "" keys fit any platform.

    Returns None when the archive holds no image for the platform (``ctr images import``
    imports the default platform only).
    """
    if not platform_ids:
        return None
    if platform in platform_ids:
        return platform_ids[platform]
    for key, value in sorted(platform_ids.items()):
        if key and normalize_platform(*(key.split("/") + [None])[:3]) == platform:
            return value
    if "" in platform_ids:
        return platform_ids[""]
    return None


# ---------------------------------------------------------------------------
# Reading archives
# ---------------------------------------------------------------------------

def _clean(name):
    """A tar member name the way containerd keys it (path.Clean, no leading ./ or /)."""
    cleaned = posixpath.normpath("/" + name).lstrip("/")
    return cleaned


class _Members:
    """Regular files and symlinks of an open tar, by cleaned name; reads small members only."""

    def __init__(self, tar, label):
        self.tar = tar
        self.label = label
        self.files = {}
        self.links = {}
        for info in tar:
            name = _clean(info.name)
            if info.isreg():
                self.files[name] = info
            elif info.issym():
                self.links[name] = _clean(posixpath.join(posixpath.dirname(name), info.linkname))

    def _info(self, name):
        seen = set()
        while name in self.links and name not in seen:
            seen.add(name)
            name = self.links[name]
        return self.files.get(name)

    def has(self, name):
        return self._info(name) is not None

    def read(self, name, what):
        info = self._info(name)
        if info is None:
            raise ArchiveError("%s: %s (%s) is missing" % (self.label, what, name))
        if info.size > MAX_JSON:
            raise ArchiveError("%s: %s (%s) is %d bytes, too big for image metadata" % (self.label, what, name, info.size))
        handle = self.tar.extractfile(info)
        data = handle.read()
        if len(data) != info.size:
            raise ArchiveError("%s: %s (%s) is truncated" % (self.label, what, name))
        return data

    def json(self, name, what, expect=dict):
        data = self.read(name, what)
        try:
            doc = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ArchiveError("%s: %s (%s) is not JSON: %s" % (self.label, what, name, exc))
        if not isinstance(doc, expect):
            raise ArchiveError("%s: %s (%s) is not a JSON %s" % (self.label, what, name, expect.__name__))
        return doc

    def blob(self, digest, what):
        """The bytes of a content-addressed blob, checked against its digest (small blobs only)."""
        if not isinstance(digest, str) or not DIGEST_RE.match(digest):
            raise ArchiveError("%s: %s has an invalid digest %r" % (self.label, what, digest))
        algorithm, hexa = digest.split(":", 1)
        data = self.read("blobs/%s/%s" % (algorithm, hexa), what)
        if getattr(hashlib, algorithm)(data).hexdigest() != hexa:
            raise ArchiveError("%s: %s blob %s does not match its digest" % (self.label, what, digest))
        return data

    def blob_json(self, digest, what):
        data = self.blob(digest, what)
        try:
            doc = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ArchiveError("%s: %s %s is not JSON: %s" % (self.label, what, digest, exc))
        if not isinstance(doc, dict):
            raise ArchiveError("%s: %s %s is not a JSON object" % (self.label, what, digest))
        return doc

    def has_blob(self, digest):
        if not isinstance(digest, str) or not DIGEST_RE.match(digest):
            return False
        return self.has("blobs/%s/%s" % tuple(digest.split(":", 1)))


def check_not_compressed(head, label):
    """Refuse compressed archives: ctr 1.6 reads a plain tar only ("invalid tar header")."""
    for magic, kind in COMPRESSION_MAGIC:
        if head.startswith(magic):
            raise ArchiveError("%s: is %s-compressed; ctr images import reads uncompressed tar archives only "
                               "(decompress it first, e.g. docker save without | gzip)" % (label, kind))


def read_archive(path):
    """``read_archive_fileobj`` of the file at ``path``."""
    try:
        with open(path, "rb") as handle:
            return read_archive_fileobj(handle, path)
    except (IOError, OSError) as exc:
        raise ArchiveError("%s: cannot be read: %s" % (path, exc.strerror or exc))


def read_archive_fileobj(fileobj, label):
    """The images of an image archive: ``{"format", "images", "warnings"}``.

    Each image is ``{"names", "target", "platform_ids", "unnamed"}``: the names ``ctr images
    import`` stores it under, the digest of its manifest or index (None for the ``docker save``
    layout, where ctr writes the manifest itself), and the image ID (config digest) per platform
    (key "" when the platform is unknown). Only headers and JSON members are read; the file
    object must be seekable.
    """
    head = fileobj.read(8)
    fileobj.seek(0)
    check_not_compressed(head, label)
    try:
        tar = tarfile.open(fileobj=fileobj, mode="r:")
    except tarfile.TarError as exc:
        raise ArchiveError("%s: is not a tar archive: %s" % (label, exc))
    try:
        try:
            members = _Members(tar, label)
        except tarfile.TarError as exc:
            raise ArchiveError("%s: damaged tar archive: %s" % (label, exc))
        if members.has("oci-layout"):
            return _read_oci(members)
        if members.has("manifest.json"):
            return _read_docker(members)
        raise ArchiveError("%s: neither an OCI image layout (oci-layout, index.json) nor a docker save archive "
                           "(manifest.json)" % label)
    finally:
        tar.close()


def oci_image_name(annotations):
    """``(name, bare_tag)``: the name ctr gives an OCI index entry, or the bare tag it would prefix.

    containerd (1.6/1.7 ``ctr images import``) takes ``io.containerd.image.name`` as written;
    otherwise ``org.opencontainers.image.ref.name`` when it contains one of ``/:@``. A bare tag
    (``latest``) becomes ``import-<date>:latest``, a name that changes every day.
    """
    annotations = annotations if isinstance(annotations, dict) else {}
    name = annotations.get(ANNOTATION_IMAGE_NAME)
    if isinstance(name, str) and name:
        return name, None
    ref = annotations.get(ANNOTATION_REF_NAME)
    if isinstance(ref, str) and ref:
        if any(char in ref for char in "/:@"):
            return ref, None
        return None, ref
    return None, None


def _config_platform(members, config_digest, what):
    """Platform from an image config blob, "" when the blob is absent or says nothing."""
    if not members.has_blob(config_digest):
        return ""
    config = members.blob_json(config_digest, what)
    return normalize_platform(config.get("os"), config.get("architecture"), config.get("variant"))


def _manifest_config(members, digest, what):
    manifest = members.blob_json(digest, what)
    config = manifest.get("config")
    if not isinstance(config, dict) or not DIGEST_RE.match(str(config.get("digest", ""))):
        raise ArchiveError("%s: %s %s has no config digest" % (members.label, what, digest))
    return config["digest"]


def _oci_platform_ids(members, descriptor):
    """``{platform: config digest}`` for one entry of index.json (a manifest or a nested index)."""
    digest = descriptor.get("digest")
    media_type = descriptor.get("mediaType")
    if media_type is None and members.has_blob(digest):
        media_type = members.blob_json(digest, "manifest").get("mediaType")
    if media_type in INDEX_TYPES:
        nested = members.blob_json(digest, "image index")
        found = {}
        for child in nested.get("manifests") or []:
            if not isinstance(child, dict) or child.get("mediaType", MANIFEST_TYPES[0]) not in MANIFEST_TYPES:
                continue
            if not members.has_blob(child.get("digest")):
                # Multi-platform archives often carry the blobs of some platforms only.
                continue
            config = _manifest_config(members, child["digest"], "manifest")
            platform = platform_of(child.get("platform")) or _config_platform(members, config, "image config")
            if platform.startswith("unknown"):
                continue  # attestation manifests (buildx) are no image
            found.setdefault(platform, config)
        return found
    if media_type is not None and media_type not in MANIFEST_TYPES:
        raise ArchiveError("%s: index.json entry %s has the unsupported media type %s" % (members.label, digest, media_type))
    config = _manifest_config(members, digest, "manifest")
    platform = platform_of(descriptor.get("platform")) or _config_platform(members, config, "image config")
    return {platform: config}


def _read_oci(members):
    layout = members.json("oci-layout", "oci-layout file")
    version = layout.get("imageLayoutVersion")
    if version != OCI_LAYOUT_VERSION:
        raise ArchiveError("%s: OCI image layout version %r is not %s" % (members.label, version, OCI_LAYOUT_VERSION))
    index = members.json("index.json", "image index")
    entries = index.get("manifests")
    if not isinstance(entries, list) or not entries:
        raise ArchiveError("%s: index.json lists no manifests" % members.label)
    images = []
    by_target = {}
    warnings = []
    for descriptor in entries:
        if not isinstance(descriptor, dict) or not DIGEST_RE.match(str(descriptor.get("digest", ""))):
            raise ArchiveError("%s: index.json has an entry without a valid digest: %r" % (members.label, descriptor))
        name, bare_tag = oci_image_name(descriptor.get("annotations"))
        target = descriptor["digest"]
        image = by_target.get(target)
        if image is None:
            image = {
                "names": [],
                "target": target,
                "platform_ids": _oci_platform_ids(members, descriptor),
                "bare_tags": [],
            }
            by_target[target] = image
            images.append(image)
        if name and name not in image["names"]:
            image["names"].append(name)
        if bare_tag and bare_tag not in image["bare_tags"]:
            image["bare_tags"].append(bare_tag)
    for image in images:
        for name in image["names"]:
            if not is_normalized(name):
                warnings.append("%s: the image name %s is stored as written; CRI (the kubelet) looks up %s"
                                % (members.label, name, _normalized_or_invalid(name)))
    return {"format": "oci", "images": images, "warnings": warnings}


def _normalized_or_invalid(name):
    try:
        return normalize_reference(name)
    except ReferenceFormatError:
        return "a normalized name and finds nothing under an invalid one"


def _read_docker(members):
    items = members.json("manifest.json", "manifest.json", expect=list)
    if not items:
        raise ArchiveError("%s: manifest.json lists no image" % members.label)
    images = []
    by_id = {}
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("Config"), str):
            raise ArchiveError("%s: manifest.json has an entry without Config: %r" % (members.label, item))
        data = members.read(_clean(item["Config"]), "image config")
        image_id = "sha256:" + hashlib.sha256(data).hexdigest()
        try:
            config = json.loads(data.decode("utf-8"))
        except ValueError as exc:
            raise ArchiveError("%s: image config %s is not JSON: %s" % (members.label, item["Config"], exc))
        if not isinstance(config, dict):
            raise ArchiveError("%s: image config %s is not a JSON object" % (members.label, item["Config"]))
        names = []
        for tag in item.get("RepoTags") or []:
            try:
                name = normalize_reference(tag)
            except ReferenceFormatError as exc:
                raise ArchiveError("%s: RepoTags: %s" % (members.label, exc))
            if name not in names:
                names.append(name)
        image = by_id.get(image_id)
        if image is None:
            platform = normalize_platform(config.get("os"), config.get("architecture"), config.get("variant"))
            image = {"names": [], "target": None, "platform_ids": {platform: image_id}, "bare_tags": []}
            by_id[image_id] = image
            images.append(image)
        for name in names:
            if name not in image["names"]:
                image["names"].append(name)
    return {"format": "docker", "images": images, "warnings": []}


# ---------------------------------------------------------------------------
# What the node has
# ---------------------------------------------------------------------------

def parse_images_list(text):
    """Rows of ``ctr images ls``: ``[{"name", "media_type", "target"}]``.

    The columns are REF, TYPE, DIGEST, SIZE, PLATFORMS, LABELS (tab-aligned with spaces; SIZE
    holds a space, as in ``11.3 KiB``). Names and media types never contain blanks, so the
    first three fields are enough.
    """
    rows = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or (fields[0] == "REF" and fields[1:3] == ["TYPE", "DIGEST"]):
            continue
        if len(fields) >= 3 and DIGEST_RE.match(fields[2]):
            rows.append({"name": fields[0], "media_type": fields[1], "target": fields[2]})
        elif len(fields) >= 2 and DIGEST_RE.match(fields[1]):
            rows.append({"name": fields[0], "media_type": "", "target": fields[1]})
        else:
            raise ValueError("unexpected line in ctr images ls output: %r" % line)
    return rows


def manifest_step(text, platform):
    """One step from a manifest or index (as ``ctr content get`` prints it) towards the image ID.

    ``("config", digest)`` for a manifest, ``("manifest", digest)`` for an index (the entry for
    ``platform``), None when neither leads anywhere (a schema 1 manifest, no entry for the platform).
    """
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict):
        return None
    media_type = doc.get("mediaType")
    config = doc.get("config")
    if isinstance(config, dict) and media_type in MANIFEST_TYPES + (None,):
        digest = config.get("digest")
        return ("config", digest) if isinstance(digest, str) and DIGEST_RE.match(digest) else None
    manifests = doc.get("manifests")
    if isinstance(manifests, list) and media_type in INDEX_TYPES + (None,):
        candidates = {}
        for child in manifests:
            if not isinstance(child, dict) or not DIGEST_RE.match(str(child.get("digest", ""))):
                continue
            if child.get("mediaType", MANIFEST_TYPES[0]) not in MANIFEST_TYPES:
                continue
            candidates.setdefault(platform_of(child.get("platform")), child["digest"])
        chosen = select_id(candidates, platform)
        return ("manifest", chosen) if chosen else None
    return None


class NodeImages:
    """The node's images (rows of ``ctr images ls``) with IDs resolved lazily.

    ``resolve(target)`` returns the image ID (config digest for the node's platform) of a target
    digest, or None; it runs ``ctr content get`` in the module, so it is called only for targets
    whose ID matters and at most once per target.
    """

    def __init__(self, rows, resolve):
        self.rows = list(rows)
        self.by_name = dict((row["name"], row) for row in self.rows)
        self._resolve = resolve
        self._ids = {}

    def target_id(self, target):
        if target not in self._ids:
            self._ids[target] = self._resolve(target)
        return self._ids[target]

    def id_of(self, name):
        """Image ID of the image named ``name``, None when there is none (or it cannot be read)."""
        row = self.by_name.get(name)
        if row is None:
            return None
        return self.target_id(row["target"])

    def find(self, image_id, hint_target=None):
        """A name on the node whose image has ``image_id``, or None; cheapest candidates first.

        Candidates: images whose target is the archive's own manifest, CRI's image-ID name
        (``sha256:<config digest>``, which CRI adds for images it manages), then every other
        image. Each candidate is checked by its resolved ID, never trusted by its name.
        """
        first = [row for row in self.rows if hint_target and row["target"] == hint_target]
        second = [row for row in self.rows if row["name"] == image_id]
        rest = [row for row in self.rows if row not in first and row not in second]
        for row in first + second + rest:
            if self.target_id(row["target"]) == image_id:
                return row["name"]
        return None


def collect_wanted(archives, images, platform):
    """Merge what the archives hold and the ``images`` option into one list of wanted images.

    ``archives`` is ``[(path, read_archive result)]``; ``images`` the module option (dicts with
    ``names`` and ``id``, ``platform_ids`` or both, optional ``target``). Returns
    ``(wanted, errors, warnings)``; each wanted image is ``{"id", "names", "archive", "target"}``,
    one per ID, with the first archive that holds it.
    """
    wanted = []
    by_id = {}
    owner = {}
    errors = []
    warnings = []

    def add(image_id, names, archive, target, where):
        for name in names:
            if name in owner and owner[name][0] != image_id:
                errors.append("the name %s is given to two images: %s (%s) and %s (%s)"
                              % (name, owner[name][0], owner[name][1], image_id, where))
                return
        entry = by_id.get(image_id)
        if entry is None:
            entry = {"id": image_id, "names": [], "archive": archive, "target": target}
            by_id[image_id] = entry
            wanted.append(entry)
        elif entry["archive"] is None and archive is not None:
            entry["archive"], entry["target"] = archive, target
        for name in names:
            owner.setdefault(name, (image_id, where))
            if name not in entry["names"]:
                entry["names"].append(name)

    for path, content in archives:
        warnings.extend(content.get("warnings", []))
        for image in content["images"]:
            label = ", ".join(image["names"]) or image["target"] or "an unnamed image"
            if image.get("bare_tags") and not image["names"]:
                errors.append("%s: %s is named only by the tag %s (org.opencontainers.image.ref.name) without a "
                              "repository; ctr would store it as import-<date>:<tag>. Give it an "
                              "io.containerd.image.name annotation or a full reference"
                              % (path, image["target"], ", ".join(image["bare_tags"])))
                continue
            if not image["names"]:
                warnings.append("%s: %s has no name; ctr images import keeps no image for it, it is skipped"
                                % (path, image["target"] or "an image"))
                continue
            image_id = select_id(image["platform_ids"], platform)
            if image_id is None:
                errors.append("%s: holds %s for %s only, not for this node's platform %s (ctr imports the "
                              "node's platform only)" % (path, label, ", ".join(sorted(image["platform_ids"])) or "no platform",
                                                         platform))
                continue
            add(image_id, image["names"], path, image["target"], path)
    for number, image in enumerate(images or []):
        where = "images[%d]" % number
        names = image.get("names") or []
        image_id = image.get("id") or select_id(image.get("platform_ids") or {}, platform)
        if not names:
            errors.append("%s: names is empty" % where)
            continue
        if not image_id:
            errors.append("%s (%s): no image ID for this node's platform %s" % (where, ", ".join(names), platform))
            continue
        if not DIGEST_RE.match(image_id):
            errors.append("%s (%s): %r is not an image ID (sha256:<64 hex digits>)" % (where, ", ".join(names), image_id))
            continue
        add(image_id, names, None, image.get("target"), where)
    return wanted, errors, warnings


PRESENT = "present"
TAG = "tag"
IMPORT = "import"


def plan_images(wanted, node):
    """What each wanted image needs on the node: ``present``, ``tag`` (the ID is there under
    another name) or ``import`` (the node lacks the ID).

    Returns one dict per wanted image: the wanted image's keys plus ``plan``, ``current``
    (name -> ID the node has under that name now, None when absent), ``missing`` (names that
    do not have the wanted ID yet) and ``source`` (a node name with the ID, for ``tag``).
    """
    plans = []
    for image in wanted:
        current = dict((name, node.id_of(name)) for name in image["names"])
        missing = [name for name in image["names"] if current[name] != image["id"]]
        entry = dict(image, current=current, missing=missing, source=None)
        if not missing:
            entry["plan"] = PRESENT
        else:
            present_as = [name for name in image["names"] if name not in missing]
            source = present_as[0] if present_as else node.find(image["id"], image.get("target"))
            if source:
                entry["plan"], entry["source"] = TAG, source
            else:
                entry["plan"] = IMPORT
        plans.append(entry)
    return plans


def archives_to_import(plans):
    """The archives holding an image the node lacks, in order, each once."""
    found = []
    for entry in plans:
        if entry["plan"] == IMPORT and entry["archive"] and entry["archive"] not in found:
            found.append(entry["archive"])
    return found


def result_images(plans, imported=(), tagged=()):
    """The module's ``images`` return value: one item per name."""
    items = []
    for entry in plans:
        for name in entry["names"]:
            items.append({
                "name": name,
                "id": entry["id"],
                "archive": entry["archive"],
                "plan": PRESENT if name not in entry["missing"] else entry["plan"],
                "imported": name in imported,
                "tagged": name in tagged,
            })
    return items


def diff_lines(plans):
    """``(before, after)`` texts for diff mode: ``name id`` per wanted name, sorted."""
    before = []
    after = []
    for entry in plans:
        for name in entry["names"]:
            if entry["current"].get(name):
                before.append("%s %s" % (name, entry["current"][name]))
            after.append("%s %s" % (name, entry["id"]))
    return "".join(line + "\n" for line in sorted(before)), "".join(line + "\n" for line in sorted(after))
