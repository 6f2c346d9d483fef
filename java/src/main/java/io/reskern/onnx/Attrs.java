package io.reskern.onnx;

import static io.reskern.onnx.Msg.bad;
import static io.reskern.onnx.Msg.quote;
import static io.reskern.onnx.Msg.unsupported;

import io.reskern.ReskernException;
import io.reskern.onnx.proto.Onnx.AttributeProto;
import io.reskern.onnx.proto.Onnx.NodeProto;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * The attributes of one node, checked: no duplicates, no attribute the op does not define (an attribute reskern does
 * not know could change the meaning), each read with the type the ONNX operator defines.
 */
final class Attrs {
    // AttributeProto.AttributeType values.
    private static final int FLOAT = 1, INT = 2, STRING = 3, TENSOR = 4, FLOATS = 6, INTS = 7;

    private final String where;
    private final Map<String, AttributeProto> map;

    private Attrs(String where, Map<String, AttributeProto> map) {
        this.where = where;
        this.map = map;
    }

    /** {@code where} names the node in messages; {@code known}: the attributes of this operator. */
    static Attrs of(NodeProto n, String where, Set<String> known) throws ReskernException {
        Map<String, AttributeProto> m = new HashMap<>();
        for (AttributeProto a : n.getAttributeList()) {
            if (!a.getRefAttrName().isEmpty()) {
                throw unsupported(where + ": attribute " + quote(a.getName()) + " refers to a function attribute");
            }
            if (!known.contains(a.getName())) {
                throw unsupported(where + ": attribute " + quote(a.getName()) + " is not one reskern knows for "
                        + quote(n.getOpType()) + " (known: " + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
            if (m.put(a.getName(), a) != null) {
                throw bad(where + ": attribute " + quote(a.getName()) + " is given twice");
            }
        }
        return new Attrs(where, m);
    }

    String where() {
        return where;
    }

    boolean has(String name) {
        return map.containsKey(name);
    }

    private AttributeProto get(String name, int type, String typeName) throws ReskernException {
        AttributeProto a = map.get(name);
        if (a == null) {
            return null;
        }
        int t = a.getType();
        if (t == 0) { // files from before the type field: infer it from the field that is set
            t = a.hasF() ? FLOAT : a.hasI() ? INT : a.hasS() ? STRING : a.hasT() ? TENSOR
                    : a.getFloatsCount() > 0 ? FLOATS : a.getIntsCount() > 0 ? INTS : type;
        }
        if (t != type) {
            throw bad(where + ": attribute " + quote(name) + " has type " + t + ", expected " + typeName);
        }
        return a;
    }

    long i(String name, long def) throws ReskernException {
        AttributeProto a = get(name, INT, "INT");
        return a == null ? def : a.getI();
    }

    float f(String name, float def) throws ReskernException {
        AttributeProto a = get(name, FLOAT, "FLOAT");
        return a == null ? def : a.getF();
    }

    String s(String name, String def) throws ReskernException {
        AttributeProto a = get(name, STRING, "STRING");
        return a == null ? def : a.getS().toString(StandardCharsets.UTF_8);
    }

    /** INTS attribute, or {@code def} (may be null) when absent. */
    long[] ints(String name, long[] def) throws ReskernException {
        AttributeProto a = get(name, INTS, "INTS");
        if (a == null) {
            return def;
        }
        long[] v = new long[a.getIntsCount()];
        for (int k = 0; k < v.length; k++) {
            v[k] = a.getInts(k);
        }
        return v;
    }

    float[] floats(String name) throws ReskernException {
        AttributeProto a = get(name, FLOATS, "FLOATS");
        if (a == null) {
            return null;
        }
        float[] v = new float[a.getFloatsCount()];
        for (int k = 0; k < v.length; k++) {
            v[k] = a.getFloats(k);
        }
        return v;
    }

    AttributeProto tensor(String name) throws ReskernException {
        return get(name, TENSOR, "TENSOR");
    }

    /** An int attribute that must be one of {@code allowed}. */
    long oneOf(String name, long def, long... allowed) throws ReskernException {
        long v = i(name, def);
        for (long x : allowed) {
            if (v == x) {
                return v;
            }
        }
        throw unsupported(where + ": " + name + " = " + v + " is not supported (supported: " + Arrays.toString(allowed) + ")");
    }
}
