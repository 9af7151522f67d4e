package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** bin/jwg genkey, genpsk and pubkey against the stock wg of wireguard-tools, through the real launcher. */
class KeyToolIT {
    @BeforeAll
    static void needWg() {
        Commands.require("wg");
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void pubkeyMatchesWgForTheSamePrivateKeys() throws Exception {
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 20; i++) {
            byte[] raw = new byte[32];
            random.nextBytes(raw);
            // Unclamped on purpose for half of them: both tools must clamp the same way.
            String key = Base64.getEncoder().encodeToString(raw) + (i % 2 == 0 ? "\n" : "");
            Commands.Outcome wg = Commands.run(ascii(key), "wg", "pubkey");
            Commands.Outcome jwg = Commands.run(ascii(key), Commands.jwg(), "pubkey");
            assertEquals(0, wg.exit(), wg.err());
            assertEquals(wg.out(), jwg.out(), "public key of " + key);
            assertEquals(0, jwg.exit());
        }
    }

    @Test
    void genkeyOutputIsAClampedKeyThatWgAccepts() throws Exception {
        Commands.Outcome gen = Commands.run(new byte[0], Commands.jwg(), "genkey");
        assertEquals(0, gen.exit());
        assertTrue(gen.out().matches("[A-Za-z0-9+/]{43}=\n"), gen.out());
        byte[] raw = Base64.getDecoder().decode(gen.out().trim());
        assertEquals(0, raw[0] & 7, "low three bits cleared");
        assertEquals(0x40, raw[31] & 0xc0, "bit 254 set, bit 255 clear");
        Commands.Outcome wg = Commands.run(ascii(gen.out()), "wg", "pubkey");
        Commands.Outcome jwg = Commands.run(ascii(gen.out()), Commands.jwg(), "pubkey");
        assertEquals(wg.out(), jwg.out());
    }

    @Test
    void genpskIsThirtyTwoRandomBytesInBase64() throws Exception {
        Commands.Outcome a = Commands.run(new byte[0], Commands.jwg(), "genpsk");
        Commands.Outcome b = Commands.run(new byte[0], Commands.jwg(), "genpsk");
        assertTrue(a.out().matches("[A-Za-z0-9+/]{43}=\n"), a.out());
        assertTrue(!a.out().equals(b.out()), "two keys differ");
    }

    @Test
    void badPubkeyInputFailsExactlyAsWgDoes() throws Exception {
        String good = "sBbB8RqxMlwv8IZy54D+Cnjwk/akPlS6tMlk3ZXIH0c=";
        List<String> inputs = List.of("", "abc", good.substring(0, 43), good + "x", "  " + good, good + " \t\n\0\n",
                good.substring(0, 42) + "B=", good.substring(0, 43) + "A", good.replace('+', '-'),
                "\0".repeat(44), good + "\n" + good);
        for (String input : inputs) {
            Commands.Outcome wg = Commands.run(ascii(input), "wg", "pubkey");
            Commands.Outcome jwg = Commands.run(ascii(input), Commands.jwg(), "pubkey");
            String shown = input.replace("\0", "\\0").replace("\n", "\\n");
            assertEquals(wg.exit(), jwg.exit(), "exit status for '" + shown + "'");
            assertEquals(wg.out(), jwg.out(), "output for '" + shown + "'");
            assertEquals(wg.err().replace("wg:", "jwg:"), jwg.err(), "message for '" + shown + "'");
        }
    }

    @Test
    void extraArgumentsGetUsageAndExitOne() throws Exception {
        for (String command : List.of("genkey", "genpsk", "pubkey")) {
            Commands.Outcome jwg = Commands.run(new byte[0], Commands.jwg(), command, "extra");
            assertEquals(1, jwg.exit());
            assertEquals("Usage: jwg " + command + "\n", jwg.err());
        }
    }

    @Test
    void genkeyWarnsWhenWritingToAWorldReadableFile(@TempDir Path dir) throws Exception {
        Path open = Files.createFile(dir.resolve("open"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-r--r--")));
        Path closed = Files.createFile(dir.resolve("closed"), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rw-------")));
        assertTrue(genkeyInto(open).contains("Warning: writing to world accessible file."));
        assertEquals("", genkeyInto(closed));
        assertTrue(Files.readString(closed).matches("[A-Za-z0-9+/]{43}=\n"));
    }

    private static String genkeyInto(Path file) throws Exception {
        Process p = new ProcessBuilder(Commands.jwg(), "genkey").redirectOutput(file.toFile()).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor());
        return err;
    }
}
