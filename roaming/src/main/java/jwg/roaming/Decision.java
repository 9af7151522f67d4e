package jwg.roaming;

import java.time.Instant;

/** One thing roaming decided or observed about a peer, with why: what `jwg roam` shows and the log records. */
public record Decision(Instant at, String what) {
    @Override
    public String toString() {
        return at + " " + what;
    }
}
