package jwg.interop;

/**
 * Where a node's WireGuard interface lives and its commands run: a network namespace on this machine ({@link Netns}),
 * or the QEMU guest that carries the kernel's WireGuard when this machine's kernel has none ({@link KernelGuest}).
 * Both have ip, wg, ping and a POSIX sh; the guest's are busybox's, so scripts keep to what both understand.
 */
interface Host {
    String name();

    /** Runs command (no shell) and returns its exit status and output; exit -1 if timeoutSeconds pass first. */
    Shell.Result exec(int timeoutSeconds, String... command);

    default Shell.Result exec(String... command) {
        return exec(60, command);
    }

    /** Runs a POSIX sh script; exit -1 if timeoutSeconds pass first. */
    Shell.Result sh(String script, int timeoutSeconds);

    default Shell.Result sh(String script) {
        return sh(script, 120);
    }

    /** Starts a POSIX sh script and leaves it running; see {@link Shell.Background}. */
    Shell.Background spawnSh(String script);

    /** A file on this host holding key, for wg's key arguments. */
    String keyFile(String key);

    /** A command that accepts one TCP connection on port and copies what it receives to its standard output. */
    String tcpReceiveCommand(int port);

    /** A command that sends its standard input to address:port over TCP, then closes the connection. */
    String tcpSendCommand(String address, int port);
}
