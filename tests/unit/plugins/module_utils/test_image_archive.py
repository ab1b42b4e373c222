"""Tests of the image_archive helpers: reading archives, names, platforms, the node's images, plans."""

from __future__ import annotations

import io
import json
import pathlib

import pytest

from ansible_collections.kubelab.cluster.plugins.module_utils import _image_archive as ia

from .. import image_archives as build

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "containerd"


def _fixture(name):
    """A fixture's text without its leading ``#`` header lines."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines(keepends=True)
    while lines and lines[0].startswith("# "):
        lines.pop(0)
    return "".join(lines)


# Real `ctr images ls` output (the fixture's header says where it comes from). The layout is the
# tabwriter of containerd's cmd/ctr/commands/images/images.go: REF, TYPE, DIGEST, SIZE, PLATFORMS,
# LABELS, padded with spaces (SIZE itself holds a space, "11.3 KiB").
CTR_IMAGES_LS = _fixture("ctr-images-ls_v1.6.20.txt")
# Same command on an empty namespace: the header only. And an image without platforms or
# labels (the "-" placeholders of images.go), as a freshly tagged image shows before CRI labels it.
CTR_IMAGES_LS_EMPTY = "REF TYPE DIGEST SIZE PLATFORMS LABELS \n"
CTR_IMAGES_LS_DASHES = (
    "REF                    TYPE                                       DIGEST                                  "
    "                                SIZE    PLATFORMS LABELS \n"
    "registry.k8s.io/pause:3.10.1 application/vnd.oci.image.index.v1+json sha256:" + "a" * 64 + " 0.0 B   -         - \n"
)


def _read(data, label="test.tar"):
    return ia.read_archive_fileobj(io.BytesIO(data), label)


class CountingFile(io.BytesIO):
    """A BytesIO that counts the bytes read through it."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer):
        count = super().readinto(buffer)
        self.bytes_read += count
        return count


# --- docker save, before Docker 25 -------------------------------------------------------------

def test_docker_save_legacy_gives_config_digest_normalized_tags_and_platform():
    layer = build.layer("app")
    config = build.config(arch="arm64", layers=[layer])
    data = build.docker_save_legacy([(["kubelab/app:1", "alpine", "registry.local:5000/x/y:2"], config, layer)])
    content = _read(data)
    assert content["format"] == "docker"
    (image,) = content["images"]
    assert image["names"] == ["docker.io/kubelab/app:1", "docker.io/library/alpine:latest", "registry.local:5000/x/y:2"]
    assert image["platform_ids"] == {"linux/arm64": build.digest(config)}
    assert image["target"] is None


def test_docker_save_legacy_merges_entries_of_one_image_and_keeps_untagged_ones():
    layer = build.layer("a")
    config_a = build.config(layers=[layer], cmd="/a")
    config_b = build.config(layers=[layer], cmd="/b")
    data = build.docker_save_legacy([(["a:1"], config_a, layer), (None, config_b, layer), (["a:2"], config_a, layer)])
    images = _read(data)["images"]
    assert [image["names"] for image in images] == [["docker.io/library/a:1", "docker.io/library/a:2"], []]
    assert images[1]["platform_ids"] == {"linux/amd64": build.digest(config_b)}


def test_docker_save_legacy_config_id_is_the_hash_not_the_file_name():
    layer = build.layer()
    config = build.config(layers=[layer])
    # The config under a name that is not its digest: the ID still comes from its content.
    data = build.tar_bytes([
        ("f" * 64 + ".json", config),
        ("manifest.json", json.dumps([{"Config": "f" * 64 + ".json", "RepoTags": ["a:1"], "Layers": []}]).encode()),
    ])
    (image,) = _read(data)["images"]
    assert image["platform_ids"] == {"linux/amd64": build.digest(config)}


def test_docker_save_legacy_bad_tag_is_an_error():
    layer = build.layer()
    data = build.docker_save_legacy([(["Upper/Case:1"], build.config(layers=[layer]), layer)])
    with pytest.raises(ia.ArchiveError, match="RepoTags: invalid repository name"):
        _read(data)


def test_members_with_leading_dot_slash_are_found():
    layer = build.layer()
    config = build.config(layers=[layer])
    (image,) = _read(build.docker_save_legacy([(["a:1"], config, layer)], prefix="./"))["images"]
    assert image["names"] == ["docker.io/library/a:1"]
    entry, blobs, config_digest, _manifest = build.single_image(name="docker.io/library/b:1")
    (image,) = _read(build.oci_layout([entry], blobs, prefix="./"))["images"]
    assert image["platform_ids"] == {"linux/amd64": config_digest}


# --- docker save, Docker 25 and later (OCI layout plus manifest.json) -------------------------

def test_docker_save_oci_is_read_as_oci_with_one_image_for_all_its_tags():
    layer = build.layer("v25")
    config = build.config(layers=[layer])
    data = build.docker_save_oci([(["kubelab/app:1", "kubelab/app:latest"],
                                   ["docker.io/kubelab/app:1", "docker.io/kubelab/app:latest"], config, layer)])
    content = _read(data)
    assert content["format"] == "oci" and content["warnings"] == []
    (image,) = content["images"]
    assert image["names"] == ["docker.io/kubelab/app:1", "docker.io/kubelab/app:latest"]
    assert image["platform_ids"] == {"linux/amd64": build.digest(config)}
    assert image["target"] == build.digest(build.manifest(config, [layer]))


# --- OCI image layout -------------------------------------------------------------------------

def test_oci_names_follow_ctr_annotation_order():
    first = build.single_image(name="docker.io/kubelab/a:1", ref_name="1", cmd="/a")
    second = build.single_image(ref_name="quay.io/kubelab/b:2", cmd="/b")
    third = build.single_image(ref_name="latest", cmd="/c")
    fourth = build.single_image(cmd="/d")
    entries = [item[0] for item in (first, second, third, fourth)]
    blobs = [blob for item in (first, second, third, fourth) for blob in item[1]]
    images = _read(build.oci_layout(entries, blobs))["images"]
    assert [image["names"] for image in images] == [["docker.io/kubelab/a:1"], ["quay.io/kubelab/b:2"], [], []]
    assert [image["bare_tags"] for image in images] == [[], [], ["latest"], []]
    assert [image["platform_ids"] for image in images] == [{"linux/amd64": item[2]} for item in (first, second, third, fourth)]
    assert [image["target"] for image in images] == [item[3] for item in (first, second, third, fourth)]


def test_oci_name_as_written_warns_when_cri_would_not_find_it():
    entry, blobs, _config, _manifest = build.single_image(name="kubelab/app:1")
    content = _read(build.oci_layout([entry], blobs))
    assert content["images"][0]["names"] == ["kubelab/app:1"]
    (warning,) = content["warnings"]
    assert "stored as written" in warning and "docker.io/kubelab/app:1" in warning


def test_oci_platform_comes_from_the_config_when_the_index_has_none():
    entry, blobs, config_digest, _manifest = build.single_image(name="docker.io/a/b:1", arch="arm64", platform=False)
    (image,) = _read(build.oci_layout([entry], blobs))["images"]
    assert image["platform_ids"] == {"linux/arm64": config_digest}


def test_oci_multi_platform_index_lists_the_platforms_whose_blobs_are_there():
    entry, blobs, ids = build.multi_platform_image(
        "docker.io/kubelab/multi:1", [("amd64", None), ("arm64", "v8"), ("arm", "v7")],
        present={"linux/amd64", "linux/arm64/v8"}, attestation=True)
    (image,) = _read(build.oci_layout([entry], blobs))["images"]
    assert image["platform_ids"] == {"linux/amd64": ids["linux/amd64"], "linux/arm64": ids["linux/arm64/v8"]}
    assert image["target"] == entry["digest"]


def test_reading_skips_layer_data():
    entry, blobs, _config, _manifest = build.single_image(name="docker.io/a/big:1", layer_size=4 * 1024 * 1024)
    data = build.oci_layout([entry], blobs)
    handle = CountingFile(data)
    ia.read_archive_fileobj(handle, "big.tar")
    assert len(data) > 4 * 1024 * 1024
    assert handle.bytes_read < 64 * 1024
    layer = build.layer("x", 4 * 1024 * 1024)
    data = build.docker_save_legacy([(["a:1"], build.config(layers=[layer]), layer)])
    handle = CountingFile(data)
    ia.read_archive_fileobj(handle, "big.tar")
    assert handle.bytes_read < 64 * 1024


def test_read_archive_reads_a_file(tmp_path):
    entry, blobs, config_digest, _manifest = build.single_image(name="docker.io/a/b:1")
    path = tmp_path / "image.tar"
    path.write_bytes(build.oci_layout([entry], blobs))
    assert ia.read_archive(str(path))["images"][0]["platform_ids"] == {"linux/amd64": config_digest}
    with pytest.raises(ia.ArchiveError, match="cannot be read"):
        ia.read_archive(str(tmp_path / "missing.tar"))


@pytest.mark.parametrize("magic,kind", [(b"\x1f\x8b\x08\x00", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"),
                                        (b"BZh91AY", "bzip2"), (b"\xfd7zXZ\x00\x00", "xz")])
def test_compressed_archives_are_refused(magic, kind):
    with pytest.raises(ia.ArchiveError, match="%s-compressed" % kind):
        _read(magic + b"\0" * 600)


def _oci_with(index=None, layout=None, blobs=()):
    members = [("oci-layout", layout if layout is not None else b'{"imageLayoutVersion":"1.0.0"}')]
    if index is not None:
        members.append(("index.json", index))
    members += [("blobs/sha256/" + build.hexa(build.digest(blob)), blob) for blob in blobs]
    return build.tar_bytes(members)


@pytest.mark.parametrize("data,text", [
    (b"this is not a tar archive at all" * 40, "is not a tar archive"),
    (build.tar_bytes([("hello.txt", b"hi")]), "neither an OCI image layout"),
    (_oci_with(layout=b'{"imageLayoutVersion":"2.0.0"}', index=b'{"manifests": []}'), "version '2.0.0' is not 1.0.0"),
    (_oci_with(), r"image index \(index.json\) is missing"),
    (_oci_with(index=b"{not json"), "is not JSON"),
    (_oci_with(index=b'{"manifests": []}'), "lists no manifests"),
    (_oci_with(index=json.dumps({"manifests": [{"digest": "sha256:abc"}]}).encode()), "without a valid digest"),
    (_oci_with(index=json.dumps({"manifests": [{"mediaType": build.OCI_MANIFEST, "digest": "sha256:" + "0" * 64}]}).encode()),
     "manifest .* is missing"),
    (build.tar_bytes([("manifest.json", b"[]")]), "lists no image"),
    (build.tar_bytes([("manifest.json", b'[{"RepoTags": ["a:1"]}]')]), "without Config"),
    (build.tar_bytes([("manifest.json", b'{"Config": "x"}')]), "is not a JSON list"),
])
def test_damaged_or_foreign_archives_are_errors(data, text):
    with pytest.raises(ia.ArchiveError, match=text):
        _read(data)


def test_manifest_blob_must_match_its_digest():
    entry, blobs, _config, _manifest = build.single_image(name="docker.io/a/b:1")
    data = build.oci_layout([entry], blobs)
    manifest = blobs[2]
    tampered = data.replace(manifest, manifest.replace(b'"schemaVersion": 2', b'"schemaVersion": 3'))
    with pytest.raises(ia.ArchiveError, match="does not match its digest"):
        _read(tampered)


def test_unsupported_media_type_in_index_is_an_error():
    entry, blobs, _config, _manifest = build.single_image(name="docker.io/a/b:1")
    entry["mediaType"] = "application/vnd.docker.distribution.manifest.v1+prettyjws"
    with pytest.raises(ia.ArchiveError, match="unsupported media type"):
        _read(build.oci_layout([entry], blobs))


def test_symlinked_config_is_followed():
    layer = build.layer()
    config = build.config(layers=[layer])
    data = build.tar_bytes([
        ("real/config.json", config),
        ("c.json", "->real/config.json"),
        ("manifest.json", json.dumps([{"Config": "c.json", "RepoTags": ["a:1"], "Layers": []}]).encode()),
    ])
    assert _read(data)["images"][0]["platform_ids"] == {"linux/amd64": build.digest(config)}


# --- names ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref,full", [
    ("alpine", "docker.io/library/alpine:latest"),
    ("alpine:3.20", "docker.io/library/alpine:3.20"),
    ("kubelab/app:1", "docker.io/kubelab/app:1"),
    ("docker.io/kubelab/app:1", "docker.io/kubelab/app:1"),
    ("index.docker.io/kubelab/app", "docker.io/kubelab/app:latest"),
    ("localhost/app:dev", "localhost/app:dev"),
    ("localhost:5000/app", "localhost:5000/app:latest"),
    ("registry.k8s.io/pause:3.10.1", "registry.k8s.io/pause:3.10.1"),
    ("ghcr.io/a/b/c:v1.2_3-x", "ghcr.io/a/b/c:v1.2_3-x"),
    ("app@sha256:" + "b" * 64, "docker.io/library/app@sha256:" + "b" * 64),
    ("app:1@sha256:" + "b" * 64, "docker.io/library/app@sha256:" + "b" * 64),
])
def test_normalize_reference(ref, full):
    assert ia.normalize_reference(ref) == full
    assert ia.is_normalized(full)


@pytest.mark.parametrize("ref", ["", " a", "App:1", "a" * 64, "a:-bad", "a@sha256:short", "-a/b", "a//b", "exa_mple.com/a:1/b"])
def test_normalize_reference_refuses_invalid_names(ref):
    with pytest.raises(ia.ReferenceFormatError):
        ia.normalize_reference(ref)
    assert not ia.is_normalized(ref)


@pytest.mark.parametrize("annotations,expected", [
    ({"io.containerd.image.name": "docker.io/a/b:1", "org.opencontainers.image.ref.name": "1"}, ("docker.io/a/b:1", None)),
    ({"io.containerd.image.name": "b:1"}, ("b:1", None)),
    ({"org.opencontainers.image.ref.name": "quay.io/a/b:2"}, ("quay.io/a/b:2", None)),
    ({"org.opencontainers.image.ref.name": "a/b"}, ("a/b", None)),
    ({"org.opencontainers.image.ref.name": "latest"}, (None, "latest")),
    ({}, (None, None)),
    (None, (None, None)),
])
def test_oci_image_name(annotations, expected):
    assert ia.oci_image_name(annotations) == expected


# --- platforms --------------------------------------------------------------------------------

@pytest.mark.parametrize("machine,platform", [
    ("x86_64", "linux/amd64"), ("aarch64", "linux/arm64"), ("armv7l", "linux/arm/v7"), ("armv6l", "linux/arm/v6"),
    ("i686", "linux/386"), ("ppc64le", "linux/ppc64le"), ("s390x", "linux/s390x"), ("riscv64", "linux/riscv64"),
])
def test_node_platform(machine, platform):
    assert ia.node_platform(machine) == platform


@pytest.mark.parametrize("args,platform", [
    (("linux", "amd64"), "linux/amd64"), (("Linux", "x86_64"), "linux/amd64"), (("linux", "arm64", "v8"), "linux/arm64"),
    (("linux", "aarch64"), "linux/arm64"), (("linux", "arm"), "linux/arm/v7"), (("linux", "armhf"), "linux/arm/v7"),
    (("linux", "arm", "6"), "linux/arm/v6"), (("linux", ""), ""), ((None, "amd64"), ""),
])
def test_normalize_platform(args, platform):
    assert ia.normalize_platform(*args) == platform


def test_select_id():
    ids = {"linux/amd64": "sha256:a", "linux/arm64/v8": "sha256:b"}
    assert ia.select_id(ids, "linux/amd64") == "sha256:a"
    assert ia.select_id(ids, "linux/arm64") == "sha256:b"
    assert ia.select_id(ids, "linux/arm/v7") is None
    assert ia.select_id({"": "sha256:c"}, "linux/s390x") == "sha256:c"
    assert ia.select_id({"": "sha256:c", "linux/amd64": "sha256:a"}, "linux/amd64") == "sha256:a"
    assert ia.select_id({}, "linux/amd64") is None


# --- what the node has ------------------------------------------------------------------------

def test_parse_images_list_of_ctr_1_6():
    rows = ia.parse_images_list(CTR_IMAGES_LS)
    assert [row["name"] for row in rows] == [
        "docker.io/imgload-dev/tiny:1", "docker.io/imgload-dev/tiny:alias", "docker.io/kubelab/side-load-test:1",
        "sha256:85a1c3d59ff426ff2a9a47d22c8e57c91654b96f1b317cf6ce4f7b0d49f8cbcc",
        "sha256:9a3fa81dd05e3ace401a4146310a8a4cfb30de5b545921cc3fbcf91d0efa68c5",
    ]
    assert rows[0]["media_type"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert rows[0]["target"] == "sha256:1ebe0c3f2c62487e4af3b7542d6dab3da48f57f790bc85fbafee4425b1b6042f"
    assert rows[2]["target"] == "sha256:348b73bef29ef066f01090eadf91cdac344ac30b545d8f932e7e56777832cbb1"


def test_parse_images_list_header_only_and_placeholders():
    assert ia.parse_images_list(CTR_IMAGES_LS_EMPTY) == []
    assert ia.parse_images_list("") == []
    (row,) = ia.parse_images_list(CTR_IMAGES_LS_DASHES)
    assert row == {"name": "registry.k8s.io/pause:3.10.1", "media_type": "application/vnd.oci.image.index.v1+json",
                   "target": "sha256:" + "a" * 64}


def test_parse_images_list_refuses_unknown_lines():
    with pytest.raises(ValueError, match="unexpected line"):
        ia.parse_images_list("REF TYPE DIGEST SIZE PLATFORMS LABELS\nctr: failed to dial\n")


def test_manifest_step_manifest_gives_config():
    layer = build.layer()
    config = build.config(layers=[layer])
    assert ia.manifest_step(build.manifest(config, [layer]).decode(), "linux/amd64") == ("config", build.digest(config))
    docker_v2 = build.manifest(config, [layer], media_type="application/vnd.docker.distribution.manifest.v2+json")
    assert ia.manifest_step(docker_v2.decode(), "linux/amd64") == ("config", build.digest(config))


def test_manifest_step_index_gives_the_platform_manifest():
    entry, blobs, _ids = build.multi_platform_image("docker.io/a/b:1", [("amd64", None), ("arm64", None)], attestation=True)
    index = blobs[-1].decode()
    children = json.loads(index)["manifests"]
    assert ia.manifest_step(index, "linux/amd64") == ("manifest", children[0]["digest"])
    assert ia.manifest_step(index, "linux/arm64") == ("manifest", children[1]["digest"])
    assert ia.manifest_step(index, "linux/s390x") is None
    assert entry["mediaType"] == build.OCI_INDEX


@pytest.mark.parametrize("text", [
    "not json", "[]", '{"schemaVersion": 1, "fsLayers": []}',
    '{"mediaType": "application/vnd.oci.image.manifest.v1+json", "config": {"digest": "bad"}}',
    '{"mediaType": "application/vnd.oci.image.config.v1+json", "config": {"digest": "sha256:%s"}}' % ("c" * 64),
])
def test_manifest_step_dead_ends(text):
    assert ia.manifest_step(text, "linux/amd64") is None


ID_A = "sha256:" + "a" * 64
ID_B = "sha256:" + "b" * 64
T_A = "sha256:" + "1" * 64
T_A2 = "sha256:" + "2" * 64
T_B = "sha256:" + "3" * 64


class Resolver:
    def __init__(self, ids):
        self.ids = ids
        self.calls = []

    def __call__(self, target):
        self.calls.append(target)
        return self.ids.get(target)


def _rows(*pairs):
    return [{"name": name, "media_type": build.OCI_MANIFEST, "target": target} for name, target in pairs]


def test_node_images_resolve_lazily_and_once():
    resolve = Resolver({T_A: ID_A, T_B: ID_B})
    node = ia.NodeImages(_rows(("a:1", T_A), ("a:2", T_A), ("b:1", T_B)), resolve)
    assert node.id_of("a:1") == ID_A and node.id_of("a:2") == ID_A and node.id_of("zzz") is None
    assert resolve.calls == [T_A]


def test_node_images_find_tries_the_archive_target_then_cri_names_and_checks_them():
    resolve = Resolver({T_A: ID_A, T_A2: ID_A, T_B: ID_B})
    rows = _rows(("b:1", T_B), (ID_A, T_A2), ("a:old", T_A))
    node = ia.NodeImages(rows, resolve)
    assert node.find(ID_A, hint_target=T_A) == "a:old"
    assert resolve.calls == [T_A]
    node = ia.NodeImages(rows, Resolver({T_A: ID_A, T_A2: ID_A, T_B: ID_B}))
    assert node.find(ID_A) == ID_A
    # A sha256: name is only a hint: one pointing at another image is not taken.
    resolve = Resolver({T_A: ID_A, T_B: ID_B})
    node = ia.NodeImages(_rows((ID_A, T_B), ("a:1", T_A)), resolve)
    assert node.find(ID_A) == "a:1"
    assert node.find("sha256:" + "f" * 64) is None


def test_unresolvable_targets_count_as_absent():
    node = ia.NodeImages(_rows(("a:1", T_A)), Resolver({}))
    assert node.id_of("a:1") is None and node.find(ID_A) is None


# --- wanted images and plans ------------------------------------------------------------------

def _content(*images, warnings=()):
    return {"format": "oci", "images": list(images), "warnings": list(warnings)}


def _image(names, ids, target=None, bare_tags=()):
    return {"names": list(names), "platform_ids": ids, "target": target, "bare_tags": list(bare_tags)}


def test_collect_wanted_merges_by_id_and_keeps_the_first_archive():
    archives = [
        ("one.tar", _content(_image(["a:1"], {"linux/amd64": ID_A}, T_A), warnings=["w1"])),
        ("two.tar", _content(_image(["a:2"], {"linux/amd64": ID_A}, T_A2), _image(["b:1"], {"": ID_B}))),
    ]
    wanted, errors, warnings = ia.collect_wanted(archives, [{"names": ["a:3"], "id": ID_A}], "linux/amd64")
    assert errors == [] and warnings == ["w1"]
    assert wanted == [
        {"id": ID_A, "names": ["a:1", "a:2", "a:3"], "archive": "one.tar", "target": T_A},
        {"id": ID_B, "names": ["b:1"], "archive": "two.tar", "target": None},
    ]


def test_collect_wanted_images_option_first_gets_the_archive_later():
    archives = [("one.tar", _content(_image(["a:1"], {"linux/amd64": ID_A}, T_A)))]
    wanted, errors, _warnings = ia.collect_wanted(archives, [], "linux/amd64")
    assert errors == []
    wanted2, errors2, _warnings2 = ia.collect_wanted([], [{"names": ["a:1"], "platform_ids": {"linux/amd64": ID_A}}],
                                                     "linux/amd64")
    assert errors2 == [] and wanted2 == [{"id": ID_A, "names": ["a:1"], "archive": None, "target": None}]
    assert wanted[0]["archive"] == "one.tar"


def test_collect_wanted_errors():
    archives = [
        ("one.tar", _content(_image(["a:1"], {"linux/amd64": ID_A}))),
        ("two.tar", _content(_image(["a:1"], {"linux/amd64": ID_B}))),
        ("three.tar", _content(_image([], {"linux/amd64": ID_B}, T_B, bare_tags=["latest"]))),
        ("four.tar", _content(_image(["c:1"], {"linux/arm64": ID_B}))),
    ]
    images = [{"names": [], "id": ID_A}, {"names": ["d:1"]}, {"names": ["e:1"], "id": "latest"}]
    wanted, errors, warnings = ia.collect_wanted(archives, images, "linux/amd64")
    assert [entry["names"] for entry in wanted] == [["a:1"]]
    assert warnings == []
    assert len(errors) == 6
    assert "the name a:1 is given to two images: %s (one.tar) and %s (two.tar)" % (ID_A, ID_B) in errors[0]
    assert "three.tar" in errors[1] and "import-<date>:<tag>" in errors[1] and "latest" in errors[1]
    assert "four.tar" in errors[2] and "linux/arm64 only" in errors[2] and "linux/amd64" in errors[2]
    assert errors[3] == "images[0]: names is empty"
    assert "images[1] (d:1): no image ID" in errors[4]
    assert "images[2] (e:1): 'latest' is not an image ID" in errors[5]


def test_collect_wanted_skips_unnamed_images_with_a_warning():
    archives = [("one.tar", _content(_image([], {"linux/amd64": ID_A}, T_A)))]
    wanted, errors, warnings = ia.collect_wanted(archives, [], "linux/amd64")
    assert wanted == [] and errors == []
    assert warnings == ["one.tar: %s has no name; ctr images import keeps no image for it, it is skipped" % T_A]


def _wanted(names, image_id, archive="one.tar", target=None):
    return {"id": image_id, "names": list(names), "archive": archive, "target": target}


def test_plan_present_tag_import():
    node = ia.NodeImages(_rows(("a:1", T_A), ("other:9", T_B), ("b:1", T_A)), Resolver({T_A: ID_A, T_B: ID_B}))
    id_c = "sha256:" + "c" * 64
    plans = ia.plan_images([
        _wanted(["a:1"], ID_A),                 # present
        _wanted(["a:1", "a:2"], ID_A),          # one name missing: tag from a:1
        _wanted(["x:1"], ID_B, target=T_B),     # the ID is there as other:9
        _wanted(["b:1"], id_c, "two.tar"),      # the name points at another image: import
        _wanted(["c:1"], id_c, "two.tar"),      # not there at all
    ], node)
    assert [entry["plan"] for entry in plans] == ["present", "tag", "tag", "import", "import"]
    assert [entry["source"] for entry in plans] == [None, "a:1", "other:9", None, None]
    assert plans[1]["missing"] == ["a:2"] and plans[1]["current"] == {"a:1": ID_A, "a:2": None}
    assert plans[3]["current"] == {"b:1": ID_A} and plans[3]["missing"] == ["b:1"]
    assert ia.archives_to_import(plans) == ["two.tar"]


def test_archives_to_import_skips_images_without_archive_and_keeps_order():
    plans = [dict(_wanted(["a"], ID_A, "2.tar"), plan="import"), dict(_wanted(["b"], ID_B, None), plan="import"),
             dict(_wanted(["c"], ID_B, "1.tar"), plan="tag"), dict(_wanted(["d"], ID_B, "1.tar"), plan="import"),
             dict(_wanted(["e"], ID_B, "2.tar"), plan="import")]
    assert ia.archives_to_import(plans) == ["2.tar", "1.tar"]


def test_result_images_and_diff_lines():
    node = ia.NodeImages(_rows(("a:1", T_A), ("b:1", T_A)), Resolver({T_A: ID_A}))
    plans = ia.plan_images([_wanted(["a:1", "a:2"], ID_A), _wanted(["b:1"], ID_B, "two.tar")], node)
    items = ia.result_images(plans, imported=["b:1"], tagged=["a:2"])
    assert items == [
        {"name": "a:1", "id": ID_A, "archive": "one.tar", "plan": "present", "imported": False, "tagged": False},
        {"name": "a:2", "id": ID_A, "archive": "one.tar", "plan": "tag", "imported": False, "tagged": True},
        {"name": "b:1", "id": ID_B, "archive": "two.tar", "plan": "import", "imported": True, "tagged": False},
    ]
    before, after = ia.diff_lines(plans)
    assert before == "a:1 %s\nb:1 %s\n" % (ID_A, ID_A)
    assert after == "a:1 %s\na:2 %s\nb:1 %s\n" % (ID_A, ID_A, ID_B)


def test_argument_spec_matches_the_documented_defaults():
    spec = ia.argument_spec()
    assert spec["namespace"]["default"] == "k8s.io"
    assert spec["address"]["default"] == "/run/containerd/containerd.sock"
    assert spec["ctr_path"]["default"] == "ctr"
    assert spec["images"]["options"]["names"]["required"] is True
