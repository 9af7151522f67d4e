package jwg.noise;

import static jwg.noise.Vectors.hex;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The cacophony Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s vector, run through the same message functions the WireGuard
 * handshake uses ({@link NoiseIK}), with the vector's prologue and payloads; then its transport messages through
 * {@link Aead} with the split keys and counters from 0.
 */
class NoiseVectorTest {
    @Test
    @SuppressWarnings("unchecked")
    void cacophonyIkpsk2VectorRunsThroughTheHandshakeCode() {
        Map<String, Object> v = Vectors.load("noise-ikpsk2-cacophony.json");
        List<Map<String, Object>> messages = (List<Map<String, Object>>) v.get("messages");
        byte[] prologue = hex(v.get("init_prologue"));
        byte[] psk = hex(((List<Object>) v.get("init_psks")).get(0));
        byte[] iStatic = hex(v.get("init_static"));
        byte[] iEphemeral = hex(v.get("init_ephemeral"));
        byte[] rStatic = hex(v.get("resp_static"));
        byte[] rEphemeral = hex(v.get("resp_ephemeral"));
        byte[] rStaticPub = Dh.publicKey(rStatic);
        assertArrayEquals(hex(v.get("init_remote_static")), rStaticPub);

        SymmetricState initiator = new SymmetricState();
        initiator.initialize(prologue);
        initiator.mixHash(rStaticPub, 0, 32);
        SymmetricState responder = new SymmetricState();
        responder.initialize(prologue);
        responder.mixHash(rStaticPub, 0, 32);

        byte[] payload1 = hex(messages.get(0).get("payload"));
        byte[] msg1 = new byte[32 + 48 + payload1.length + 16];
        byte[] ss = new byte[32];
        assertTrue(Dh.sharedSecret(iStatic, rStaticPub, ss));
        assertTrue(NoiseIK.writeInitiation(initiator, iEphemeral, rStaticPub, ss, Dh.publicKey(iStatic), payload1,
                msg1, 0));
        assertArrayEquals(hex(messages.get(0).get("ciphertext")), msg1);

        byte[] re = new byte[32];
        byte[] rs = new byte[32];
        assertTrue(NoiseIK.readInitiationStatic(responder, Secret.of(rStatic), msg1, 0, re, rs));
        assertArrayEquals(Dh.publicKey(iStatic), rs);
        byte[] got1 = new byte[payload1.length];
        assertTrue(NoiseIK.readInitiationPayload(responder, ss, msg1, 0, got1));
        assertArrayEquals(payload1, got1);

        byte[] payload2 = hex(messages.get(1).get("payload"));
        byte[] msg2 = new byte[32 + payload2.length + 16];
        assertTrue(NoiseIK.writeResponse(responder, rEphemeral, re, rs, Secret.of(psk), payload2, msg2, 0));
        assertArrayEquals(hex(messages.get(1).get("ciphertext")), msg2);
        byte[] got2 = new byte[payload2.length];
        assertTrue(NoiseIK.readResponse(initiator, iEphemeral, Secret.of(iStatic), Secret.of(psk), msg2, 0, got2));
        assertArrayEquals(payload2, got2);

        assertArrayEquals(hex(v.get("handshake_hash")), initiator.hash);
        assertArrayEquals(hex(v.get("handshake_hash")), responder.hash);

        byte[] initiatorSend = new byte[32];
        byte[] responderSend = new byte[32];
        NoiseIK.split(initiator, initiatorSend, responderSend);
        long[] counters = {0, 0};
        for (int i = 2; i < messages.size(); i++) {
            boolean fromInitiator = i % 2 == 0;
            byte[] payload = hex(messages.get(i).get("payload"));
            byte[] sealed = new byte[payload.length + 16];
            byte[] key = fromInitiator ? initiatorSend : responderSend;
            Aead.seal(Aead.key(key), counters[fromInitiator ? 0 : 1]++, payload, 0, payload.length, sealed, 0, null);
            assertArrayEquals(hex(messages.get(i).get("ciphertext")), sealed, "transport message " + i);
        }
    }
}
