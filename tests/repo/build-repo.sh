#!/usr/bin/env bash
# Build the offline, signed apt repository the Molecule scenarios install Kubernetes
# packages from, laid out like pkgs.k8s.io:
#   OUT_DIR/core:/stable:/v<minor>/deb/{Packages,Packages.gz,Release,Release.gpg,InRelease,Release.key,*.deb}
#   OUT_DIR/key.asc, OUT_DIR/key.gpg   (public half of a throwaway signing key)
# Packages: kubelet, kubeadm, kubectl, cri-tools, kubernetes-cni, version <x.y.z>-1.1
# where x.y.z is `kubeadm version -o short` of the binaries used. The binaries are
# the TEST DOUBLES in tests/doubles/bin unless KUBELAB_TEST_KUBE_BIN_DIR names a
# directory of real ones. State that must not be served (GPG home, download cache,
# input stamp) lives in OUT_DIR.state. An unchanged input set reuses the last build.
# Usage: tests/repo/build-repo.sh OUT_DIR
set -euo pipefail

die() { echo "build-repo: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: $0 OUT_DIR"

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
state="${out}.state"
mkdir -p "$state/cache"
# Scenarios may build concurrently into the same directory: one at a time.
exec 9>"$state/lock"
flock 9

bindir="${KUBELAB_TEST_KUBE_BIN_DIR:-$root/tests/doubles/bin}"
for tool in kubeadm kubelet kubectl; do
  [ -x "$bindir/$tool" ] || die "$bindir/$tool is missing or not executable"
done
crictl="$bindir/crictl"
[ -x "$crictl" ] || crictl="$here/doubles/crictl"
units="$root/tests/doubles/systemd"
# The kubeadm double starts the API-server double (shipped with it); it and the kubectl double read YAML
# with PyYAML (python3-yaml, a dependency of their packages; real binaries need neither).
apiserver="$root/tests/doubles/apiserver/apiserver.py"
double_depends=""
if [ "$bindir" = "$root/tests/doubles/bin" ]; then double_depends=", python3-yaml"; fi

# Tools: dpkg-deb (dpkg), apt-ftparchive (apt-utils), gpg; installed when missing.
missing=()
command -v dpkg-deb >/dev/null 2>&1 || missing+=(dpkg-dev)
command -v apt-ftparchive >/dev/null 2>&1 || missing+=(apt-utils)
command -v gpg >/dev/null 2>&1 || missing+=(gpg)
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-repo: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

version="$("$bindir/kubeadm" version -o short)"
version="${version#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "kubeadm version -o short printed '$version', expected vX.Y.Z"
# The doubles can be packaged as other releases too (an upgrade test needs two minors): each version in
# KUBELAB_TEST_DOUBLE_VERSIONS ("1.35.4 1.36.1") gets its own minor's repository, with doubles that report it.
versions="$version"
if [ -n "${KUBELAB_TEST_DOUBLE_VERSIONS:-}" ]; then
  [ "$bindir" = "$root/tests/doubles/bin" ] || die "KUBELAB_TEST_DOUBLE_VERSIONS stamps the test doubles, not $bindir"
  versions="$KUBELAB_TEST_DOUBLE_VERSIONS"
  for v in $versions; do
    [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "KUBELAB_TEST_DOUBLE_VERSIONS: '$v' is not X.Y.Z"
  done
fi
arch="$(dpkg --print-architecture)"

# kubernetes-cni carries Debian's real CNI plugins (containernetworking-plugins).
cni_deb="$(find "$state/cache" -maxdepth 1 -name 'containernetworking-plugins_*.deb' | head -n1)"
if [ -z "$cni_deb" ]; then
  (cd "$state/cache" && { apt-get download containernetworking-plugins >/dev/null 2>&1 ||
     { apt-get update -qq && apt-get download containernetworking-plugins >/dev/null; }; })
  cni_deb="$(find "$state/cache" -maxdepth 1 -name 'containernetworking-plugins_*.deb' | head -n1)"
  [ -n "$cni_deb" ] || die "could not download containernetworking-plugins"
fi
cni_version="$(dpkg-deb -f "$cni_deb" Version)"
cni_version="${cni_version%%+*}"
cni_version="${cni_version%%-*}"

stamp="$( { echo "$versions $arch $cni_version"; sha256sum "$0" "$bindir"/kubeadm "$bindir"/kubelet \
  "$bindir"/kubectl "$crictl" "$units"/* "$cni_deb" "$apiserver" | cut -d' ' -f1; } | sha256sum | cut -d' ' -f1)"
built=1
for v in $versions; do [ -f "$out/core:/stable:/v${v%.*}/deb/InRelease" ] || built=0; done
if [ -f "$state/stamp" ] && [ "$(cat "$state/stamp")" = "$stamp" ] && [ "$built" = 1 ]; then
  echo "build-repo: up to date (kubeadm $versions)"
  exit 0
fi

work="$(mktemp -d "$state/work.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000

# mkpkg NAME VERSION DEPENDS DESCRIPTION: package $work/NAME (already filled) into $work/debs.
mkpkg() {
  local name="$1" pkg_version="$2" depends="$3" description="$4" dir="$work/$1"
  mkdir -p "$dir/DEBIAN" "$work/debs"
  {
    echo "Package: $name"
    echo "Version: $pkg_version"
    echo "Architecture: $arch"
    echo "Maintainer: kubelab.cluster tests <tests@kubelab.invalid>"
    echo "Installed-Size: $(du -sk --exclude=DEBIAN "$dir" | cut -f1)"
    [ -z "$depends" ] || echo "Depends: $depends"
    echo "Section: admin"
    echo "Priority: optional"
    echo "Homepage: https://kubernetes.io"
    echo "Description: $description"
    echo " Built by kubelab.cluster tests/repo/build-repo.sh for offline tests."
  } > "$dir/DEBIAN/control"
  find "$dir" -type d -exec chmod 0755 {} +
  dpkg-deb --root-owner-group -Zgzip --build "$dir" "$work/debs/${name}_${pkg_version}_${arch}.deb" >/dev/null
}

# stamp_doubles VERSION DIR: copies of the doubles in DIR that report VERSION (their VERSION line rewritten).
stamp_doubles() {
  local tool
  mkdir -p "$2"
  for tool in kubeadm kubelet kubectl; do
    sed -E "s/^(VERSION = .*)\"v[0-9]+\.[0-9]+\.[0-9]+\"\$/\\1\"v$1\"/" "$bindir/$tool" > "$2/$tool"
    chmod 0755 "$2/$tool"
  done
  [ "$("$2/kubeadm" version -o short)" = "v$1" ] || die "could not stamp the kubeadm double as v$1"
}

# Throwaway signing key, made once per state directory.
export GNUPGHOME="$state/gnupg"
mkdir -p "$GNUPGHOME"
chmod 0700 "$GNUPGHOME"
if ! gpg --batch --list-secret-keys 2>/dev/null | grep -q kubelab; then
  gpg --batch --quiet --passphrase '' --quick-gen-key \
    "kubelab.cluster throwaway test repository key <tests@kubelab.invalid>" default default never
fi

for version in $versions; do
  minor="${version%.*}"
  bin="$bindir"
  if [ -n "${KUBELAB_TEST_DOUBLE_VERSIONS:-}" ]; then
    bin="$work/bin-$version"
    stamp_doubles "$version" "$bin"
  fi
  rm -rf "$work/debs" "$work"/kube* "$work/cri-tools" "$work/cni-extract"
  kube_pkg_version="$version-1.1"
  install -D -m 0755 "$bin/kubelet" "$work/kubelet/usr/bin/kubelet"
  install -D -m 0644 "$units/kubelet.service" "$work/kubelet/usr/lib/systemd/system/kubelet.service"
  mkdir -p "$work/kubelet/etc/kubernetes/manifests"
  mkpkg kubelet "$kube_pkg_version" \
    "iptables (>= 1.4.21), iproute2, socat, util-linux, mount, ethtool, ebtables, conntrack" \
    "Node agent for Kubernetes clusters"

  install -D -m 0755 "$bin/kubeadm" "$work/kubeadm/usr/bin/kubeadm"
  install -D -m 0644 "$units/10-kubeadm.conf" "$work/kubeadm/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
  if [ -n "$double_depends" ]; then
    install -D -m 0644 "$apiserver" "$work/kubeadm/usr/lib/kubelab-doubles/apiserver.py"
  fi
  # The real packages' cri-tools floor moves with the release (observed: pkgs.k8s.io v1.28 needs
  # >= 1.28.0, v1.36 needs >= 1.30.0), and each minor's repository carries a cri-tools it satisfies.
  # Here: the release's own minor, at most 1.30; the cri-tools built below (<minor>.0) satisfies it.
  crictl_floor="$minor.0"
  if [ "${minor#*.}" -gt 30 ]; then crictl_floor="${minor%%.*}.30.0"; fi
  mkpkg kubeadm "$kube_pkg_version" \
    "kubelet (>= 1.19.0), kubectl (>= 1.13.0), cri-tools (>= $crictl_floor), kubernetes-cni (>= 1.1.1)$double_depends" \
    "Command-line utility for administering a Kubernetes cluster"

  install -D -m 0755 "$bin/kubectl" "$work/kubectl/usr/bin/kubectl"
  mkpkg kubectl "$kube_pkg_version" "${double_depends#, }" "Command-line utility for interacting with a Kubernetes cluster"

  install -D -m 0755 "$crictl" "$work/cri-tools/usr/bin/crictl"
  mkpkg cri-tools "$minor.0-1.1" "" "Command-line utility for interacting with a container runtime"

  mkdir -p "$work/cni-extract" "$work/kubernetes-cni/opt/cni/bin"
  dpkg-deb -x "$cni_deb" "$work/cni-extract"
  cp -a "$work"/cni-extract/usr/lib/cni/. "$work/kubernetes-cni/opt/cni/bin/"
  mkpkg kubernetes-cni "$cni_version-1.1" "" "Binaries required to provision kubernetes container networking"

  repo="$out/core:/stable:/v$minor/deb"
  rm -rf "$repo"
  mkdir -p "$repo"
  cp "$work"/debs/*.deb "$repo/"
  (
    cd "$repo"
    apt-ftparchive packages . > Packages
    gzip -9nk Packages
    apt-ftparchive \
      -o APT::FTPArchive::Release::Origin="kubelab-tests" \
      -o APT::FTPArchive::Release::Label="kubelab-tests" \
      -o APT::FTPArchive::Release::Architectures="$arch" \
      release . > Release
    gpg --batch --yes --quiet --clearsign -o InRelease Release
    gpg --batch --yes --quiet --armor --detach-sign -o Release.gpg Release
    gpg --batch --yes --quiet --armor --export -o Release.key
  )
  echo "build-repo: built $repo (kubeadm v$version, binaries from $bindir)"
done
gpg --batch --yes --quiet --armor --export -o "$out/key.asc"
gpg --batch --yes --quiet --export -o "$out/key.gpg"
chmod -R a+rX "$out"
echo "$stamp" > "$state/stamp"
