package jwg.roaming;

import java.time.Instant;
import java.util.Map;
import jwg.noise.Key;

/**
 * One thing roaming decided or observed about a peer, with why: what `jwg roam` shows and the log records. The log
 * prints {@link #what} as a line of text, or (JWG_LOG_FORMAT=json) the event and its facts as fields of one JSON
 * object, so that tests and users read fields rather than parse sentences. Facts are strings, numbers, lists of
 * strings, maps of address to RTT in ms, or null (no endpoint).
 */
public record Decision(Instant at, Key peer, Event event, Map<String, Object> facts, String what) {
    public enum Event {
        FOLLOWING, UNFOLLOWED, RESOLVED, DNS_FAILED, PROBING, PROBE_CONFIRMED, PROBE_FAILED, PREFERRED_FAILED,
        ENDPOINT_CHANGED, PEER_ROAMED, STEP_FAILED, CHECKING, CHECK_PASSED, CHECK_FAILED, LOCAL_CHANGE;

        /** The name in a JSON log line: endpoint_changed, dns_failed, ... */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    @Override
    public String toString() {
        return at + " " + what;
    }
}
