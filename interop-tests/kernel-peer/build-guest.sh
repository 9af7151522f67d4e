#!/bin/bash
# Builds the kernel peer's guest once into $CACHE (default interop-tests/cache/kernel-peer): Debian's cloud kernel,
# which ships wireguard.ko, and a 2.5 MB initramfs of busybox-static, wg and the modules it needs. Only what is
# missing is rebuilt; the initramfs again when guest-init.sh or this script changed (a stamp holds their hash).
#
# Needs: apt-get (download only: nothing is installed into /boot or /lib/modules), dpkg-deb, depmod and modprobe
# (kmod), wg; lz4 optionally, for the faster boot from an uncompressed kernel.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${CACHE:-$here/../cache/kernel-peer}
kernel_pkg=linux-image-cloud-amd64
modules="virtio_pci virtio_net wireguard"
stamp=$(cat "$here/guest-init.sh" "$0" | sha256sum | cut -c1-16)

if [ -f "$cache/initramfs.cpio.gz" ] && [ "$(cat "$cache/stamp" 2>/dev/null)" = "$stamp" ]; then
    exit 0
fi
mkdir -p "$cache/debs"
cd "$cache/debs"

# The meta package depends on the versioned image (e.g. linux-image-6.1.0-41-cloud-amd64); resolving it needs
# apt's package lists, which a fresh machine may not have yet.
resolve() { apt-cache depends "$kernel_pkg" 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
image=$(resolve)
[ -n "$image" ] || { apt-get update -qq; image=$(resolve); }
[ -n "$image" ] || { echo "build-guest: apt cannot resolve $kernel_pkg" >&2; exit 1; }
# APT::Sandbox::User=root: the _apt user may not write into this folder.
ls "${image}"_*.deb >/dev/null 2>&1 || apt-get -q download -o APT::Sandbox::User=root "$image"
ls busybox-static_*.deb >/dev/null 2>&1 || apt-get -q download -o APT::Sandbox::User=root busybox-static

work=$cache/work
rm -rf "$work"
mkdir -p "$work"
dpkg-deb -x "$(ls "${image}"_*.deb | tail -1)" "$work/kernel"
dpkg-deb -x "$(ls busybox-static_*.deb | tail -1)" "$work/busybox"
kver=$(ls "$work/kernel/lib/modules")
depmod -b "$work/kernel" "$kver"          # the .deb ships no modules.dep
cp "$work/kernel/boot/vmlinuz-$kver" "$cache/vmlinuz"
cp "$work/busybox/bin/busybox" "$cache/busybox"   # the harness's nc to the guest's control shell

# An uncompressed vmlinux boots ~1 s faster under TCG (qemu enters it through PVH and skips the in-guest
# decompressor). Debian 12's bzImage holds an LZ4 frame (magic 02 21 4c 18): cut it out and decompress it.
rm -f "$cache/vmlinux"
if command -v lz4 >/dev/null; then
    offset=$(LC_ALL=C grep -obUaP '\x02\x21\x4c\x18' "$cache/vmlinuz" | head -1 | cut -d: -f1 || true)
    if [ -n "$offset" ]; then
        tail -c +$((offset + 1)) "$cache/vmlinuz" | lz4 -dcq > "$cache/vmlinux" 2>/dev/null || true
        [ "$(head -c 4 "$cache/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || rm -f "$cache/vmlinux"
    fi
fi

root=$work/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,lib/modules}
cp "$work/busybox/bin/busybox" "$root/bin/"
ln -s busybox "$root/bin/sh"              # /init is a #!/bin/sh script
cp "$here/guest-init.sh" "$root/init"
chmod 755 "$root/init"

# The modules in dependency order (modprobe --show-depends prints "insmod PATH" lines, dependencies first).
for m in $modules; do
    modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" | awk '$1 == "insmod" {print $2}'
done | awk '!seen[$0]++' | while read -r ko; do
    name=$(basename "$ko")
    case "$name" in                        # later Debian kernels compress their modules
        *.ko.xz)  xz -dc "$ko" > "$root/lib/modules/${name%.xz}"; name=${name%.xz} ;;
        *.ko.zst) zstd -qdc "$ko" > "$root/lib/modules/${name%.zst}"; name=${name%.zst} ;;
        *)        cp "$ko" "$root/lib/modules/" ;;
    esac
    echo "$name" >> "$root/lib/modules/load-order"
done

# wg (wireguard-tools) is linked against glibc: copy it with its libraries.
wg=$(command -v wg)
cp "$wg" "$root/bin/wg"
for lib in $(ldd "$wg" | grep -o '/[^ ]*'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
done

(cd "$root" && find . | "$cache/busybox" cpio -o -H newc 2>/dev/null | gzip -1 > "$cache/initramfs.cpio.gz")
echo "$stamp" > "$cache/stamp"
rm -rf "$work"
echo "build-guest: $image ($kver), modules $(echo $modules), initramfs $(du -h "$cache/initramfs.cpio.gz" | cut -f1)"
