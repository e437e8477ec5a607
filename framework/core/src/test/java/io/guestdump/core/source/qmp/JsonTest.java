package io.guestdump.core.source.qmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The JSON codec and the message framer of the QMP client. */
class JsonTest {

    @Test
    void parsesWhatQemuSends() {
        Object v = Json.parse("{\"return\": {\"a\": [1, -2, 18446744073709551615, 1.5, true, null, \"x\\n\\u0041\"]}}");
        assertEquals(Map.of("return", Map.of("a", java.util.Arrays.asList(1L, -2L,
                new BigInteger("18446744073709551615"), 1.5, true, null, "x\nA"))), v);
    }

    @Test
    void writesAndReadsBack() {
        Map<String, Object> m = Map.of("execute", "pmemsave", "arguments", Map.of("val", 4096L, "filename",
                "/tmp/a \"b\""));
        assertEquals(m, Json.parse(Json.write(m)));
    }

    @Test
    void refusesBrokenText() {
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": }"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{} x"));
    }

    @Test
    void framesPrettyPrintedAndSplitMessages() {
        QmpClient.JsonFramer f = new QmpClient.JsonFramer();
        assertEquals(List.of(), f.feed(bytes("{\"return\": {\n  \"s\": \"}{\"")));
        assertEquals(List.of("{\"return\": {\n  \"s\": \"}{\"}}", "{\"event\": \"STOP\"}"),
                f.feed(bytes("}}\r\n{\"event\": \"STOP\"}\r\n")));
        assertEquals(null, f.garbage());
        f.feed(bytes("(qemu) "));
        assertEquals("(qemu)", f.garbage());
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }
}
