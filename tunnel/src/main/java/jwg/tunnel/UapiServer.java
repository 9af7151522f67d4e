package jwg.tunnel;

import java.io.IOException;
import java.io.Writer;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadFactory;

/**
 * The UAPI socket, /var/run/wireguard/IF.sock: an AF_UNIX stream socket, owner-only (bound under umask 077, as
 * wireguard-go does), a thread per connection, any number of operations per connection. A socket file left by a dead
 * daemon is replaced; one that still answers means another daemon owns the name, and start fails. Deleting the file
 * tells the daemon to exit (the xplatform contract; wg-quick down does it on macOS).
 *
 * <p>Platform threads, not virtual ones: the first virtual thread set up the JVM's scheduler for them (a fork-join
 * pool with its carrier threads and an unparker) and the blocking I/O poller, ~90 classes the CDS archive did not hold,
 * at the first `wg set` after start-up, while the warm-up and the first handshake want the CPU (37 ms of class
 * loading and method handles in one `-Xlog:class+load` timeline of bench/compare's start). On an idle daemon, 5 starts
 * each: the first `wg show` 11-16 ms against 13-20, 24 threads against 27-28, 0.35 MiB less resident. Only the
 * socket's owner can connect (it is bound owner-only), and `wg` opens one connection per command: a handful at once
 * in normal use, so no pool and no cap.
 */
final class UapiServer implements AutoCloseable {
    static final Path RUN_DIR = Path.of("/var/run/wireguard");
    /**
     * Readers and reply writers kept for the next connections, as many as are usually open at once: `wg show` from a
     * monitoring loop then costs no buffers (see {@link UapiReply}). A connection that finds none makes its own pair,
     * which goes back if there is room.
     */
    private static final int KEPT = 4;

    private final ArrayBlockingQueue<UapiReader> readers = new ArrayBlockingQueue<>(KEPT);
    private final ArrayBlockingQueue<UapiReply> replies = new ArrayBlockingQueue<>(KEPT);
    private final ThreadFactory connections = Thread.ofPlatform().daemon().name("jwg-uapi-conn").factory();

    private final Path dir;
    private final Path path;
    private final Uapi uapi;
    private final Log log;
    private final Runnable onSocketGone;
    private ServerSocketChannel server;
    private WatchService watcher;
    private volatile boolean closed;
    /**
     * The socket file this server bound (its device and inode), null before: only that file may be unlinked. A daemon
     * that lost the name must leave the owner's alone, and so must one that exits after another process took the name
     * over: a test suite that stopped jwg and at once started wireguard-go under the same interface name saw its new
     * socket unlinked by jwg's exit, and `wg` then found no socket.
     */
    private volatile Object boundFile;

    UapiServer(String ifname, Uapi uapi, Log log, Runnable onSocketGone) {
        this(RUN_DIR, ifname, uapi, log, onSocketGone);
    }

    /** A socket in another directory than wg's: for the training run, which must not touch the real ones. */
    UapiServer(Path dir, String ifname, Uapi uapi, Log log, Runnable onSocketGone) {
        this.dir = dir;
        this.path = dir.resolve(ifname + ".sock");
        this.uapi = uapi;
        this.log = log;
        this.onSocketGone = onSocketGone;
    }

    Path path() {
        return path;
    }

    void start() throws IOException {
        Files.createDirectories(dir);
        if (Files.exists(path)) {
            try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(path))) {
                throw new IOException("UAPI socket " + path + " is in use by another process");
            } catch (IOException stale) {
                if (stale.getMessage() != null && stale.getMessage().contains("in use")) {
                    throw stale;
                }
                Files.deleteIfExists(path);
            }
        }
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        int oldMask = Posix.setUmask(0077);
        try {
            server.bind(UnixDomainSocketAddress.of(path));
            boundFile = fileKey(path);
        } finally {
            Posix.setUmask(oldMask);
        }
        watcher = path.getFileSystem().newWatchService();
        dir.register(watcher, StandardWatchEventKinds.ENTRY_DELETE);
        Thread.ofPlatform().daemon().name("jwg-uapi").start(this::acceptLoop);
        Thread.ofPlatform().daemon().name("jwg-uapi-watch").start(this::watchLoop);
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                SocketChannel conn = server.accept();
                connections.newThread(() -> serve(conn)).start();
            } catch (IOException e) {
                if (!closed) {
                    log.error("UAPI accept: " + e.getMessage());
                }
                return;
            }
        }
    }

    private void serve(SocketChannel conn) {
        UapiReader in = readers.poll();
        UapiReply out = replies.poll();
        in = (in == null ? new UapiReader(null) : in).attach(Channels.newInputStream(conn));
        out = (out == null ? new UapiReply() : out).attach(conn);
        try (conn) {
            converse(in, out);
        } catch (UapiError e) {
            log.verbose("UAPI connection closed: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                log.verbose("UAPI connection: " + e);
            }
        } finally {
            in.detach();
            out.detach();
            readers.offer(in);
            replies.offer(out);
        }
    }

    /**
     * One connection's operations in order, until the client goes away or sends what ends a connection: an unknown
     * operation, a get not followed by its blank line, an operation line too long to read (thrown).
     */
    void converse(UapiReader in, Writer out) throws IOException, UapiError {
        converse(uapi, log, in, out);
    }

    /** As {@link #converse(UapiReader, Writer)}, with uapi's device and no socket (the start-up training). */
    static void converse(Uapi uapi, Log log, UapiReader in, Writer out) throws IOException, UapiError {
        for (String op; (op = in.readLine()) != null; ) {
            switch (op) {
                case "get=1" -> {
                    String end = in.readLine();
                    if (end == null) {
                        return;
                    }
                    if (!end.isEmpty()) {
                        reply(out, UapiError.EINVAL);
                        return;
                    }
                    uapi.get(out);
                }
                case "jwg_roam=1" -> {
                    if (!"".equals(in.readLine())) {
                        return;
                    }
                    uapi.roamState(out);
                }
                case "jwg_drops=1" -> {
                    if (!"".equals(in.readLine())) {
                        return;
                    }
                    uapi.drops(out);
                }
                case "set=1" -> {
                    int errno = 0;
                    try {
                        uapi.set(in);
                    } catch (UapiError e) {
                        log.error("UAPI set failed: " + e.getMessage());
                        errno = e.errno;
                    }
                    reply(out, errno);
                }
                default -> {
                    return;
                }
            }
        }
    }

    /** errno=-N: wg negates the value it reads, so -22 makes it print "Invalid argument". */
    private static void reply(Writer out, int errno) throws IOException {
        out.write("errno=");
        out.write(Integer.toString(errno == 0 ? 0 : -errno));
        out.write("\n\n");
        out.flush();
    }

    private void watchLoop() {
        try {
            while (!closed) {
                WatchKey key = watcher.take();
                for (WatchEvent<?> event : key.pollEvents()) {
                    if (path.getFileName().equals(event.context()) || event.kind() == StandardWatchEventKinds.OVERFLOW) {
                        if (!Files.exists(path) && !closed) {
                            log.verbose("UAPI socket " + path + " was deleted, shutting down");
                            onSocketGone.run();
                            return;
                        }
                    }
                }
                key.reset();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    /** The file's identity (device and inode), or null when there is none. */
    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException gone) {
            return null;
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (server != null) {
                server.close();
            }
            if (watcher != null) {
                watcher.close();
            }
            Object ours = boundFile;
            if (ours != null && ours.equals(fileKey(path))) {
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.verbose("closing UAPI socket: " + e.getMessage());
        }
    }
}
