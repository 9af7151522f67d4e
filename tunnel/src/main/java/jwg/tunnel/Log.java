package jwg.tunnel;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The daemon's log, in wireguard-go's levels (LOG_LEVEL=verbose|debug|error|silent) and line shape
 * ("DEBUG: (wg0) 2006/01/02 15:04:05.000 text", with milliseconds). Never give it a private key: nothing here redacts.
 */
public final class Log {
    public enum Level { SILENT, ERROR, INFO, VERBOSE }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSS");
    private final Level level;
    private final String prefix;
    private final PrintStream out;

    public Log(Level level, String interfaceName, PrintStream out) {
        this.level = level;
        this.prefix = "(" + interfaceName + ") ";
        this.out = out;
    }

    /**
     * LOG_LEVEL as wireguard-go reads it ("verbose" and "debug" both mean everything; unset means errors only), plus
     * jwg's "info": errors and roaming decisions.
     */
    public static Level levelOf(String env) {
        if (env == null) {
            return Level.ERROR;
        }
        return switch (env) {
            case "verbose", "debug" -> Level.VERBOSE;
            case "silent" -> Level.SILENT;
            case "info" -> Level.INFO;
            default -> Level.ERROR;
        };
    }

    public boolean verbose() {
        return level == Level.VERBOSE;
    }

    public void verbose(String message) {
        if (level == Level.VERBOSE) {
            write("DEBUG: ", message);
        }
    }

    /** Decisions a user should be able to follow (roaming). */
    public void info(String message) {
        if (level.compareTo(Level.INFO) >= 0) {
            write("INFO: ", message);
        }
    }

    public void error(String message) {
        if (level != Level.SILENT) {
            write("ERROR: ", message);
        }
    }

    private void write(String tag, String message) {
        out.println(tag + prefix + LocalDateTime.now().format(TIME) + " " + message);
    }
}
