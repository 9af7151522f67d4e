package jwg.tunnel;

import java.io.PrintStream;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.Map;

/**
 * The daemon's log, in wireguard-go's levels (LOG_LEVEL=verbose|debug|error|silent) and line shape
 * ("DEBUG: (wg0) 2006/01/02 15:04:05.000 text", with milliseconds), or with JWG_LOG_FORMAT=json one JSON object per
 * line: time (UTC), level, interface, the fields a caller gives (a roaming decision's event and facts), message.
 * Never give it a private key: nothing here redacts.
 */
public final class Log {
    public enum Level { SILENT, ERROR, INFO, VERBOSE }

    public enum Format { TEXT, JSON }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss.SSS");
    private final Level level;
    private final Format format;
    private final String interfaceName;
    private final String prefix;
    private final PrintStream out;

    public Log(Level level, String interfaceName, PrintStream out) {
        this(level, Format.TEXT, interfaceName, out);
    }

    public Log(Level level, Format format, String interfaceName, PrintStream out) {
        this.level = level;
        this.format = format;
        this.interfaceName = interfaceName;
        this.prefix = "(" + interfaceName + ") ";
        this.out = out;
    }

    /** JWG_LOG_FORMAT: "json", or text (anything else, or unset). */
    public static Format formatOf(String env) {
        return "json".equals(env) ? Format.JSON : Format.TEXT;
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
            write("DEBUG: ", "debug", message, Map.of());
        }
    }

    /** Decisions a user should be able to follow (roaming). */
    public void info(String message) {
        info(message, Map.of());
    }

    /** The same with fields for the JSON form (the text form prints the message alone). */
    public void info(String message, Map<String, Object> fields) {
        if (level.compareTo(Level.INFO) >= 0) {
            write("INFO: ", "info", message, fields);
        }
    }

    public void error(String message) {
        if (level != Level.SILENT) {
            write("ERROR: ", "error", message, Map.of());
        }
    }

    /** tag: the text form's prefix; level: the JSON form's name for it. */
    private void write(String tag, String level, String message, Map<String, Object> fields) {
        if (format == Format.TEXT) {
            out.println(tag + prefix + LocalDateTime.now().format(TIME) + " " + message);
            return;
        }
        Json line = new Json().put("time", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString())
                .put("level", level)
                .put("interface", interfaceName);
        fields.forEach(line::put);
        out.println(line.put("message", message));
    }
}
