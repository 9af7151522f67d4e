package jwg.tunnel;

import io.netty.util.internal.logging.AbstractInternalLogger;
import io.netty.util.internal.logging.InternalLogger;
import io.netty.util.internal.logging.InternalLoggerFactory;

/**
 * Routes Netty's own diagnostics into the daemon's log at verbose level. Left alone, Netty writes java.util.logging
 * warnings to stderr (for instance when a fresh network namespace has no interface up yet), which is noise in a
 * daemon whose output is the user's terminal.
 */
final class NettyLog extends AbstractInternalLogger {
    private final transient Log log;

    private NettyLog(String name, Log log) {
        super(name);
        this.log = log;
    }

    static void routeTo(Log log) {
        InternalLoggerFactory.setDefaultFactory(new InternalLoggerFactory() {
            @Override
            protected InternalLogger newInstance(String name) {
                return new NettyLog(name, log);
            }
        });
    }

    private void emit(String msg, Throwable t) {
        log.verbose("netty: " + msg + (t == null ? "" : " (" + t + ")"));
    }

    @Override public boolean isTraceEnabled() { return false; }
    @Override public void trace(String msg) { }
    @Override public void trace(String format, Object arg) { }
    @Override public void trace(String format, Object a, Object b) { }
    @Override public void trace(String format, Object... args) { }
    @Override public void trace(String msg, Throwable t) { }
    @Override public boolean isDebugEnabled() { return false; }
    @Override public void debug(String msg) { }
    @Override public void debug(String format, Object arg) { }
    @Override public void debug(String format, Object a, Object b) { }
    @Override public void debug(String format, Object... args) { }
    @Override public void debug(String msg, Throwable t) { }
    @Override public boolean isInfoEnabled() { return log.verbose(); }
    @Override public void info(String msg) { emit(msg, null); }
    @Override public void info(String format, Object arg) { emit(format + " " + arg, null); }
    @Override public void info(String format, Object a, Object b) { emit(format + " " + a + " " + b, null); }
    @Override public void info(String format, Object... args) { emit(format, null); }
    @Override public void info(String msg, Throwable t) { emit(msg, t); }
    @Override public boolean isWarnEnabled() { return log.verbose(); }
    @Override public void warn(String msg) { emit(msg, null); }
    @Override public void warn(String format, Object arg) { emit(format + " " + arg, null); }
    @Override public void warn(String format, Object... args) { emit(format, null); }
    @Override public void warn(String format, Object a, Object b) { emit(format + " " + a + " " + b, null); }
    @Override public void warn(String msg, Throwable t) { emit(msg, t); }
    @Override public boolean isErrorEnabled() { return true; }
    @Override public void error(String msg) { log.error("netty: " + msg); }
    @Override public void error(String format, Object arg) { log.error("netty: " + format + " " + arg); }
    @Override public void error(String format, Object a, Object b) { log.error("netty: " + format + " " + a + " " + b); }
    @Override public void error(String format, Object... args) { log.error("netty: " + format); }
    @Override public void error(String msg, Throwable t) { log.error("netty: " + msg + " (" + t + ")"); }
}
