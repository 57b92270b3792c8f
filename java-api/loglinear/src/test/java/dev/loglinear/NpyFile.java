package dev.loglinear;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A float64 array read from a NumPy .npy file (format 1.0, little-endian '<f8', C order). */
record NpyFile(long[] shape, double[] data) {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    static NpyFile read(Path path) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[6];
        bytes.get(magic);
        if (!Arrays.equals(magic, new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'}) || bytes.get() != 1) {
            throw new IOException(path + ": expected a NumPy .npy file of format 1.x");
        }
        bytes.get();
        int headerLength = Short.toUnsignedInt(bytes.getShort());
        byte[] header = new byte[headerLength];
        bytes.get(header);
        String dict = new String(header, StandardCharsets.ISO_8859_1);
        Matcher descr = DESCR.matcher(dict);
        if (!descr.find() || !descr.group(1).equals("<f8") || dict.contains("'fortran_order': True")) {
            throw new IOException(path + ": expected little-endian float64 in C order, header " + dict.trim());
        }
        Matcher shapeMatch = SHAPE.matcher(dict);
        if (!shapeMatch.find()) {
            throw new IOException(path + ": no shape in header " + dict.trim());
        }
        long[] shape = Arrays.stream(shapeMatch.group(1).split(","))
                .map(String::trim).filter(s -> !s.isEmpty()).mapToLong(Long::parseLong).toArray();
        double[] data = new double[(int) Tensor.product(shape)];
        bytes.asDoubleBuffer().get(data);
        return new NpyFile(shape, data);
    }

    float[] floats() {
        float[] f = new float[data.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) data[i];
        }
        return f;
    }
}
