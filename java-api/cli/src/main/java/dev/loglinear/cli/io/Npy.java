package dev.loglinear.cli.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0 to 3.0), the
 * format of the golden reference vectors. Reading accepts little-endian float64,
 * float32 and int64 in C order and widens them to double; writing always
 * produces version 1.0, little-endian float64, C order.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** numpy pads the header so that the data starts at a multiple of this. */
    private static final int ALIGNMENT = 64;

    private Npy() {
    }

    public static NpyArray read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.length <= i || bytes[i] != MAGIC[i]) {
                throw new IOException(file + ": not a .npy file (bad magic)");
            }
        }
        int major = bytes[6] & 0xff;
        buf.position(8);
        int headerLength;
        if (major == 1) {
            headerLength = buf.getShort() & 0xffff;
        } else if (major == 2 || major == 3) {
            headerLength = buf.getInt();
        } else {
            throw new IOException(file + ": .npy format version " + major + " is not supported (expected 1, 2 or 3)");
        }
        int dataStart = buf.position() + headerLength;
        String header = new String(bytes, buf.position(), headerLength,
                major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = match(DESCR, header, "descr", file);
        if (match(FORTRAN, header, "fortran_order", file).equals("True")) {
            throw new IOException(file + ": fortran_order True is not supported (expected C order)");
        }
        long[] shape = parseShape(match(SHAPE, header, "shape", file), file);
        int count = Math.toIntExact(NpyArray.elementCount(shape));
        int itemSize = switch (descr) {
            case "<f8", "<i8" -> 8;
            case "<f4" -> 4;
            default -> throw new IOException(file + ": dtype '" + descr + "' is not supported (expected <f8, <f4 or <i8)");
        };
        long expected = (long) dataStart + (long) count * itemSize;
        if (bytes.length != expected) {
            throw new IOException(file + ": file has " + bytes.length + " bytes, expected " + expected
                    + " for shape " + java.util.Arrays.toString(shape) + " of " + descr);
        }
        buf.position(dataStart);
        double[] data = new double[count];
        for (int i = 0; i < count; i++) {
            data[i] = switch (descr) {
                case "<f8" -> buf.getDouble();
                case "<f4" -> buf.getFloat();
                default -> buf.getLong();
            };
        }
        return new NpyArray(shape, data);
    }

    public static void write(Path file, NpyArray array) throws IOException {
        StringBuilder dict = new StringBuilder("{'descr': '<f8', 'fortran_order': False, 'shape': (");
        long[] shape = array.shape();
        for (int i = 0; i < shape.length; i++) {
            dict.append(shape[i]);
            if (shape.length == 1 || i + 1 < shape.length) {
                dict.append(shape.length == 1 ? "," : ", ");
            }
        }
        dict.append("), }");
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1; // + trailing newline
        int padding = (ALIGNMENT - unpadded % ALIGNMENT) % ALIGNMENT;
        dict.append(" ".repeat(padding)).append('\n');
        byte[] header = dict.toString().getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer buf = ByteBuffer.allocate(MAGIC.length + 4 + header.length + 8 * array.data().length)
                .order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length).put(header);
        for (double d : array.data()) {
            buf.putDouble(d);
        }
        Files.write(file, buf.array());
    }

    private static String match(Pattern p, String header, String key, Path file) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(file + ": header has no '" + key + "': " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String inner, Path file) throws IOException {
        List<Long> dims = new ArrayList<>();
        for (String part : inner.split(",")) {
            String s = part.trim();
            if (s.isEmpty()) {
                continue;
            }
            try {
                dims.add(Long.parseLong(s.endsWith("L") ? s.substring(0, s.length() - 1) : s));
            } catch (NumberFormatException e) {
                throw new IOException(file + ": bad shape entry '" + s + "' in (" + inner + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
