package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The UAPI socket's file: who may unlink it. */
class UapiServerTest {
    private static UapiServer server(Path dir) throws Exception {
        Log log = new Log(Log.Level.SILENT, "uapi0", System.err);
        Device device = new Device("uapi0", null, log, () -> { });
        return new UapiServer(dir, "uapi0", new Uapi(device, null), log, () -> { });
    }

    @Test
    void closingUnlinksTheSocketItBound(@TempDir Path dir) throws Exception {
        UapiServer server = server(dir);
        server.start();
        assertTrue(Files.exists(server.path()));
        server.close();
        assertFalse(Files.exists(server.path()));
    }

    @Test
    void closingLeavesASocketAnotherProcessBoundUnderTheSameName(@TempDir Path dir) throws Exception {
        UapiServer server = server(dir);
        server.start();
        Path path = server.path();
        // What a successor (wireguard-go started under the same interface name) does while the old daemon exits.
        Files.delete(path);
        try (ServerSocketChannel successor = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            successor.bind(UnixDomainSocketAddress.of(path));
            server.close();
            assertTrue(Files.exists(path), "the successor's socket was unlinked by the daemon that lost the name");
        }
    }

    @Test
    void aLiveSocketIsNotTakenOver(@TempDir Path dir) throws Exception {
        UapiServer first = server(dir);
        first.start();
        UapiServer second = server(dir);
        try {
            second.start();
            throw new AssertionError("a second server bound the name of a live one");
        } catch (java.io.IOException expected) {
            assertTrue(expected.getMessage().contains("in use"), expected.getMessage());
        } finally {
            second.close();
        }
        assertTrue(Files.exists(first.path()), "the refused server unlinked the live one's socket");
        first.close();
    }
}
