package jwg.tunnel;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.SecureRandom;
import java.util.Set;
import jwg.noise.Dh;
import jwg.noise.Key;

/**
 * genkey, genpsk and pubkey, behaving as wireguard-tools' do: same output format, same acceptance of input (exactly
 * 44 base64 characters, then only white space or NULs), the same messages and exit status 1 on bad input, and the
 * same warning when a secret is written to a file others can read.
 */
final class KeyTool {
    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final SecureRandom random;

    KeyTool(InputStream in, PrintStream out, PrintStream err, SecureRandom random) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.random = random;
    }

    int genkey(String[] args) {
        return generate(args, true);
    }

    int genpsk(String[] args) {
        return generate(args, false);
    }

    private int generate(String[] args, boolean clamp) {
        if (args.length != 1) {
            err.println("Usage: jwg " + args[0]);
            return 1;
        }
        warnIfWorldReadable();
        byte[] key = new byte[Key.LEN];
        random.nextBytes(key);
        if (clamp) {
            Dh.clamp(key);
        }
        out.print(Key.of(key).toBase64() + "\n");
        out.flush();
        return 0;
    }

    int pubkey(String[] args) throws IOException {
        if (args.length != 1) {
            err.println("Usage: jwg " + args[0]);
            return 1;
        }
        byte[] text = in.readNBytes(Key.BASE64_LEN);
        if (text.length != Key.BASE64_LEN) {
            err.println("jwg: Key is not the correct length or format");
            return 1;
        }
        for (int c; (c = in.read()) != -1; ) {
            if (c != 0 && !isSpace(c)) {
                err.println("jwg: Trailing characters found after key");
                return 1;
            }
        }
        Key privateKey;
        try {
            privateKey = Key.fromBase64(new String(text, StandardCharsets.ISO_8859_1));
        } catch (IllegalArgumentException e) {
            err.println("jwg: Key is not the correct length or format");
            return 1;
        }
        out.print(Key.of(Dh.publicKey(privateKey.bytes())).toBase64() + "\n");
        out.flush();
        return 0;
    }

    /** C's isspace in the "C" locale, which wg uses. */
    private static boolean isSpace(int c) {
        return c == ' ' || (c >= '\t' && c <= '\r');
    }

    /** Standard output is file descriptor 1; through /proc we can see whether it is a file others may read. */
    private void warnIfWorldReadable() {
        Path stdout = Path.of("/proc/self/fd/1");
        try {
            if (Files.isRegularFile(stdout)) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(stdout);
                if (perms.contains(PosixFilePermission.OTHERS_READ) || perms.contains(PosixFilePermission.OTHERS_WRITE)
                        || perms.contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    err.print("Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n");
                }
            }
        } catch (IOException | UnsupportedOperationException e) {
            // Not Linux, or no /proc: the warning is advice, never a reason to fail.
        }
    }
}
