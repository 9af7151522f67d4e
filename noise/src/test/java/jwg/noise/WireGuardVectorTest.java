package jwg.noise;

import static jwg.noise.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One complete WireGuard exchange with fixed keys, ephemerals and timestamps, byte for byte: initiation, response,
 * transport keys, a data packet and a keepalive (all proven live against wireguard-go), a cookie reply and the
 * initiation that carries mac2 made from its cookie.
 */
class WireGuardVectorTest {
    private static final long NOW = 1_000_000_000_000L;
    private Map<String, Object> v;
    private StaticIdentity initiatorId;
    private StaticIdentity responderId;
    private Handshake initiator;
    private Handshake responder;
    private Key initiatorPub;
    private Key responderPub;

    @BeforeEach
    void setUp() {
        v = Vectors.load("wireguard-handshake.json");
        initiatorId = new StaticIdentity(Secret.of(hex(v.get("initiator_static_private"))));
        responderId = new StaticIdentity(Secret.of(hex(v.get("responder_static_private"))));
        initiatorPub = initiatorId.publicKey();
        responderPub = responderId.publicKey();
        assertArrayEquals(hex(v.get("initiator_static_public")), initiatorPub.bytes());
        assertArrayEquals(hex(v.get("responder_static_public")), responderPub.bytes());
        initiator = new Handshake(initiatorId, responderPub);
        responder = new Handshake(responderId, initiatorPub);
        Secret psk = Secret.of(hex(v.get("preshared_key")));
        initiator.setPresharedKey(psk);
        responder.setPresharedKey(psk);
    }

    private byte[] initiation(String timestampField, CookieGenerator macs) {
        byte[] msg = new byte[Message.INITIATION_LEN];
        assertTrue(initiator.createInitiation(msg, 0, index("initiator_sender_index"),
                hex(v.get("initiator_ephemeral_private")), hex(v.get(timestampField))));
        macs.addMacs(msg, 0, msg.length, NOW);
        return msg;
    }

    private int index(String field) {
        return (int) (long) (Long) v.get(field);
    }

    @Test
    void initiationMatchesByteForByte() {
        byte[] msg = initiation("timestamp_tai64n", new CookieGenerator(responderPub));
        assertArrayEquals(hex(v.get("initiation")), msg);
        assertArrayEquals(hex(v.get("initiation_mac1")), Arrays.copyOfRange(msg, 116, 132));
    }

    @Test
    void responseTransportKeysAndDataMatchByteForByte() {
        byte[] init = initiation("timestamp_tai64n", new CookieGenerator(responderPub));
        CookieChecker checker = new CookieChecker(responderId, new SecureRandom());
        assertTrue(checker.checkMac1(init, 0, init.length));
        Result<Handshake> consumed = Handshake.consumeInitiation(responderId, init, 0,
                k -> k.equals(initiatorPub) ? responder : null, NOW);
        assertEquals(responder, consumed.valueOrNull());

        byte[] response = new byte[Message.RESPONSE_LEN];
        assertTrue(responder.createResponse(response, 0, index("responder_sender_index"),
                hex(v.get("responder_ephemeral_private"))));
        new CookieGenerator(initiatorPub).addMacs(response, 0, response.length, NOW);
        assertArrayEquals(hex(v.get("response")), response);

        assertEquals(initiator, initiator.consumeResponse(response, 0).valueOrNull());
        assertArrayEquals(hex(v.get("final_handshake_hash")), initiator.hash());
        assertArrayEquals(hex(v.get("final_handshake_hash")), responder.hash());
        Keypair initiatorKeys = initiator.deriveKeypair(NOW);
        Keypair responderKeys = responder.deriveKeypair(NOW);

        byte[] plain = hex(v.get("data0_plaintext"));
        byte[] buf = new byte[16 + plain.length + 16 + 16];
        System.arraycopy(plain, 0, buf, 16, plain.length);
        int len = initiatorKeys.seal(buf, 0, plain.length, Protocol.DEFAULT_MTU);
        assertArrayEquals(hex(v.get("data0_counter0")), Arrays.copyOf(buf, len));
        int keepaliveLen = initiatorKeys.seal(buf, 0, 0, Protocol.DEFAULT_MTU);
        assertArrayEquals(hex(v.get("keepalive_counter1")), Arrays.copyOf(buf, keepaliveLen));

        byte[] data = hex(v.get("data0_counter0"));
        int plainLen = responderKeys.open(data, 0, data.length);
        assertEquals(Keypair.paddedLength(plain.length, Protocol.DEFAULT_MTU), plainLen);
        assertArrayEquals(plain, Arrays.copyOfRange(data, 16, 16 + plain.length));
    }

    @Test
    void transportKeysMatchTheVector() {
        byte[] init = initiation("timestamp_tai64n", new CookieGenerator(responderPub));
        byte[] response = hex(v.get("response"));
        assertTrue(initiator.consumeResponse(response, 0).isOk());
        Keypair keys = initiator.deriveKeypair(NOW);
        byte[] sendKey = hex(v.get("initiator_send_key"));
        byte[] receiveKey = hex(v.get("initiator_receive_key"));
        Keypair expected = new Keypair(sendKey, receiveKey, true, NOW, keys.localIndex(), keys.remoteIndex());
        byte[] a = new byte[64];
        byte[] b = new byte[64];
        assertEquals(keys.seal(a, 0, 16, 0), expected.seal(b, 0, 16, 0));
        assertArrayEquals(b, a);
        assertEquals(init.length, Message.INITIATION_LEN);
    }

    @Test
    void cookieReplyIsConsumedAndItsCookieYieldsTheVectorsMac2() {
        CookieGenerator macs = new CookieGenerator(responderPub);
        byte[] first = initiation("timestamp_tai64n", macs);
        assertArrayEquals(hex(v.get("initiation")), first);
        assertTrue(macs.consumeReply(hex(v.get("cookie_reply")), 0, NOW).isOk());
        byte[] second = initiation("timestamp2_tai64n", macs);
        assertArrayEquals(hex(v.get("initiation2_with_mac2")), second);

        byte[] cookie = hex(v.get("cookie"));
        byte[] mac2 = new byte[16];
        Blake2s.mac(cookie, second, 0, Message.INITIATION_MAC2, mac2, 0);
        assertArrayEquals(mac2, Arrays.copyOfRange(second, Message.INITIATION_MAC2, Message.INITIATION_LEN));
    }

    @Test
    void cookieReplyIsSealedUnderTheRepliersCookieKeyWithMac1AsAad() {
        byte[] init = hex(v.get("initiation"));
        byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
        Message.writeHeader(reply, 0, Message.COOKIE_REPLY);
        System.arraycopy(init, Message.INITIATION_SENDER, reply, Message.COOKIE_REPLY_RECEIVER, 4);
        byte[] nonce = hex(v.get("cookie_nonce"));
        System.arraycopy(nonce, 0, reply, Message.COOKIE_REPLY_NONCE, 24);
        XAead.seal(responderId.cookieKey, nonce, hex(v.get("cookie")), 0, 16, reply, Message.COOKIE_REPLY_COOKIE,
                Arrays.copyOfRange(init, Message.INITIATION_MAC1, Message.INITIATION_MAC2));
        assertArrayEquals(hex(v.get("cookie_reply")), reply);
    }
}
