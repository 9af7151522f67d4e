package jwg.interop;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** What the interop tests need from the machine: root, and the stock tools that bin/test installs. */
final class Environment {
    /**
     * The full run (-Djwg.interop.full=true, which interop-tests/run gives): every control pairing and every watch at
     * its full length. Without it (CI, held to 45 minutes) the longest scenarios run shorter, each saying how.
     */
    static final boolean FULL = Boolean.getBoolean("jwg.interop.full");

    private Environment() {}

    /** Skips when not root, with the reason; under CI (which runs as root) a missing privilege is a failure. */
    static void requireRoot() {
        boolean root = "root".equals(System.getProperty("user.name"));
        if (!root && System.getenv("CI") != null) {
            throw new AssertionError("CI must run the interop tests as root");
        }
        assumeTrue(root, "needs root: creates network namespaces, veth pairs and TUN devices");
    }

    /** Root, wg and wireguard-go: what every test with a peer needs. */
    static void requireWireGuard() {
        requireRoot();
        requireTool("wg");
        requireTool("wireguard-go");
    }

    /**
     * Root and wg, and where this machine's kernel has no WireGuard, what boots the kernel guest: QEMU, and apt-get,
     * dpkg-deb and kmod to build it (kernel-peer/build-guest.sh).
     */
    static void requireKernelPeer() {
        requireRoot();
        requireTool("wg");
        if (KernelGuest.needed()) {
            for (String tool : new String[] {"qemu-system-x86_64", "apt-get", "dpkg-deb", "depmod", "modprobe"}) {
                requireTool(tool);
            }
        }
    }

    static void requireTool(String tool) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            found |= Files.isExecutable(Path.of(dir, tool));
        }
        if (!found && System.getenv("CI") != null) {
            throw new AssertionError(tool + " is missing; bin/install-deps installs it");
        }
        assumeTrue(found, tool + " is not installed (bin/install-deps installs it)");
    }
}
