package io.reskern.image;

import io.reskern.ReskernException;
import io.reskern.ReskernException.ErrorCode;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.awt.image.SampleModel;
import java.io.ByteArrayInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.FileImageInputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * JPEG and PNG → 8-bit RGB ({@link RgbImage}) with {@code javax.imageio} (the JDK's own readers; no extra library).
 *
 * <p>Rules:
 * <ul>
 *   <li>Format by content (magic bytes), not by file name: PNG {@code 89 50 4E 47 0D 0A 1A 0A}, JPEG {@code FF D8 FF}.
 *       Anything else (GIF, BMP, WebP, text, …) is {@code BAD_FILE}.</li>
 *   <li>The size in the header is checked before any pixel is decoded: more than {@link #maxPixels()} pixels
 *       (default {@value #DEFAULT_MAX_PIXELS}, configurable) is rejected as a likely decompression bomb.</li>
 *   <li>8-bit RGB, RGBA, gray and gray+alpha images are returned as the decoder's own pixel buffer (no copy; the
 *       JDK decodes colour JPEG/PNG to BGR byte order, which {@link RgbImage}'s channel offsets describe).</li>
 *   <li>Alpha is dropped (not composited). Gray becomes R = G = B = the stored value. Palette images are looked up
 *       in their palette (its alpha dropped). Samples of other depths (1, 2, 4, 16 bits) are scaled to 8 bits
 *       as {@code round(v · 255 / (2^bits − 1))}. These are PIL's {@code convert("RGB")} results except for 16-bit
 *       samples: PIL keeps the high byte of 16-bit RGB ({@code v >> 8}, up to one level lower) and clips 16-bit gray
 *       at 255.</li>
 *   <li>Stored samples are used as they are: embedded ICC profiles and PNG gamma are ignored, and so is the EXIF
 *       orientation (no rotation), as PIL's {@code Image.open} + {@code convert("RGB")} and torchvision's loaders
 *       do.</li>
 *   <li>CMYK / YCCK JPEGs (print workflows) are rejected ({@code BAD_FILE}, "not supported"); the JDK reader
 *       decodes every common JPEG (baseline, progressive, 4:2:0 / 4:2:2 / 4:4:4, gray, restart markers), so no
 *       extra JPEG library is used.</li>
 *   <li>Truncated or corrupt data is {@code BAD_FILE}, including JPEGs the reader would fill in with grey after a
 *       "premature end" warning. Every failure names the file and the problem; decoder exceptions of any kind
 *       are turned into {@code BAD_FILE}, a failed pixel allocation into {@code OUT_OF_MEMORY}.</li>
 * </ul>
 * Instances are immutable and thread-safe.
 */
public final class ImageDecoder {
    /** Default pixel limit (100 Mpixel: a 300 MB RGB buffer). */
    public static final long DEFAULT_MAX_PIXELS = 100_000_000L;

    private static final ImageDecoder DEFAULT = new ImageDecoder(DEFAULT_MAX_PIXELS);

    private final long maxPixels;

    private ImageDecoder(long maxPixels) {
        this.maxPixels = maxPixels;
    }

    /** A decoder with the default limit. */
    public static ImageDecoder defaults() {
        return DEFAULT;
    }

    /** A decoder that rejects images of more than {@code maxPixels} pixels. */
    public ImageDecoder withMaxPixels(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException("maxPixels must be positive: " + maxPixels);
        }
        return new ImageDecoder(maxPixels);
    }

    public long maxPixels() {
        return maxPixels;
    }

    /** Decodes a JPEG or PNG file. */
    public RgbImage decode(Path file) throws ReskernException {
        String name = file.toString();
        if (Files.isDirectory(file)) {
            throw new ReskernException(ErrorCode.IO, name + ": is a directory, not an image file");
        }
        try (ImageInputStream in = new FileImageInputStream(file.toFile())) {
            return decode(in, name);
        } catch (FileNotFoundException | NoSuchFileException e) {
            throw new ReskernException(ErrorCode.IO, name + ": cannot open: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, name + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Decodes a JPEG or PNG held in memory; {@code name} is used in messages. */
    public RgbImage decode(byte[] bytes, String name) throws ReskernException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            return decode(in, name);
        } catch (IOException e) {
            throw new ReskernException(ErrorCode.IO, name + ": cannot read: " + e.getMessage(), e);
        }
    }

    private RgbImage decode(ImageInputStream in, String name) throws ReskernException, IOException {
        String format = sniff(in, name);
        ImageReader reader = reader(format, name);
        List<String> warnings = new ArrayList<>();
        try {
            reader.setInput(in, true, true);
            reader.addIIOReadWarningListener((src, msg) -> warnings.add(msg));
            int w;
            int h;
            try {
                w = reader.getWidth(0);
                h = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                throw bad(name, format, "unreadable header", e);
            }
            if (w < 1 || h < 1) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + format + " header gives " + w + "x" + h + " pixels");
            }
            if ((long) w * h > maxPixels) {
                throw new ReskernException(ErrorCode.BAD_FILE, String.format(Locale.ROOT,
                        "%s: %s of %dx%d = %d pixels exceeds the limit of %d pixels (decompression bomb? raise it with "
                                + "ImageDecoder.withMaxPixels)", name, format, w, h, (long) w * h, maxPixels));
            }
            BufferedImage img;
            try {
                img = reader.read(0);
            } catch (OutOfMemoryError e) {
                throw new ReskernException(ErrorCode.OUT_OF_MEMORY, String.format(Locale.ROOT,
                        "%s: no memory to decode %dx%d pixels (raise -Xmx or lower ImageDecoder.withMaxPixels)", name, w, h), null);
            } catch (IOException | RuntimeException e) {
                String m = String.valueOf(e.getMessage());
                if (m.contains("Unsupported Image Type") || m.contains("Unsupported JPEG process")) {
                    throw new ReskernException(ErrorCode.BAD_FILE, name + ": this kind of " + format
                            + " is not supported (" + m + "; CMYK/YCCK JPEGs and 12-bit JPEGs are not)", e);
                }
                throw bad(name, format, "corrupt or truncated", e);
            }
            for (String wmsg : warnings) {
                String lw = wmsg.toLowerCase(Locale.ROOT);
                if (lw.contains("truncated") || lw.contains("premature end")) {
                    throw new ReskernException(ErrorCode.BAD_FILE, name + ": truncated " + format + " (" + wmsg + ")");
                }
            }
            if (img.getWidth() != w || img.getHeight() != h) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": decoded " + img.getWidth() + "x" + img.getHeight()
                        + " pixels, header said " + w + "x" + h);
            }
            return toRgb(img, name, format);
        } finally {
            reader.dispose();
        }
    }

    private static ReskernException bad(String name, String format, String what, Throwable e) {
        String m = e.getMessage();
        Throwable c = e.getCause();
        String detail = e.getClass().getSimpleName() + (m == null ? "" : ": " + m)
                + (c != null && c != e ? " (" + c.getClass().getSimpleName() + (c.getMessage() == null ? "" : ": " + c.getMessage()) + ")" : "");
        return new ReskernException(ErrorCode.BAD_FILE, name + ": " + what + " " + format + " (" + detail + ")", e);
    }

    private static String sniff(ImageInputStream in, String name) throws ReskernException, IOException {
        byte[] m = new byte[8];
        in.mark();
        int n = 0;
        while (n < m.length) {
            int r = in.read(m, n, m.length - n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        in.reset();
        if (n == 0) {
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": empty file, not an image");
        }
        if (n == 8 && (m[0] & 0xff) == 0x89 && m[1] == 'P' && m[2] == 'N' && m[3] == 'G' && m[4] == 0x0d && m[5] == 0x0a
                && m[6] == 0x1a && m[7] == 0x0a) {
            return "PNG";
        }
        if (n >= 3 && (m[0] & 0xff) == 0xff && (m[1] & 0xff) == 0xd8 && (m[2] & 0xff) == 0xff) {
            return "JPEG";
        }
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < n; i++) {
            hex.append(String.format(Locale.ROOT, "%02x", m[i] & 0xff));
        }
        String hint = n >= 3 && m[0] == 'G' && m[1] == 'I' && m[2] == 'F' ? " (a GIF)"
                : n >= 2 && m[0] == 'B' && m[1] == 'M' ? " (a BMP)"
                : n >= 4 && m[0] == 'R' && m[1] == 'I' && m[2] == 'F' && m[3] == 'F' ? " (RIFF: WebP?)" : "";
        throw new ReskernException(ErrorCode.BAD_FILE, name + ": not a JPEG or PNG image" + hint + " (starts with " + hex + ")");
    }

    private static ImageReader reader(String format, String name) throws ReskernException {
        Iterator<ImageReader> it = ImageIO.getImageReadersByFormatName(format);
        if (!it.hasNext()) {
            throw new ReskernException(ErrorCode.UNSUPPORTED, name + ": no " + format + " reader in this JVM");
        }
        return it.next();
    }

    /** The image as an {@link RgbImage}: the pixel buffer itself where its layout allows, else a packed RGB copy. */
    static RgbImage toRgb(BufferedImage img, String name, String format) throws ReskernException {
        Raster r = img.getRaster();
        ColorModel cm = img.getColorModel();
        SampleModel sm = r.getSampleModel();
        int w = img.getWidth();
        int h = img.getHeight();
        int csType = cm.getColorSpace().getType();
        boolean gray = csType == ColorSpace.TYPE_GRAY;
        boolean rgb = csType == ColorSpace.TYPE_RGB;
        if (!(cm instanceof IndexColorModel) && !gray && !rgb) {
            String what = csType == ColorSpace.TYPE_CMYK ? "CMYK" : "colour space type " + csType;
            throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + what + " " + format
                    + " is not supported (only RGB, gray and palette images; convert it to RGB)");
        }
        int colourBands = gray ? 1 : 3;
        // Fast path: one byte per sample, interleaved in one bank: hand the decoder's buffer over as it is.
        if (!(cm instanceof IndexColorModel) && r.getDataBuffer() instanceof DataBufferByte db && db.getNumBanks() == 1
                && sm instanceof ComponentSampleModel csm && sm.getNumBands() >= colourBands && allBits(sm, 8)
                && singleBank(csm)) {
            int ps = csm.getPixelStride();
            int ss = csm.getScanlineStride();
            int[] bo = csm.getBandOffsets();
            int tx = r.getSampleModelTranslateX();
            int ty = r.getSampleModelTranslateY();
            long off = (long) db.getOffset() + (long) (r.getMinY() - ty) * ss + (long) (r.getMinX() - tx) * ps;
            if (ps >= 1 && ps <= 16 && ss >= (long) w * ps && off >= 0 && off <= Integer.MAX_VALUE && okOffsets(bo, ps)) {
                int oR = bo[0];
                int oG = gray ? bo[0] : bo[1];
                int oB = gray ? bo[0] : bo[2];
                return new RgbImage(db.getData(), (int) off, h, w, ss, ps, oR, oG, oB, name);
            }
        }
        return copyToRgb(img, cm, r, w, h, gray, name);
    }

    private static boolean okOffsets(int[] bo, int ps) {
        for (int o : bo) {
            if (o < 0 || o >= ps) {
                return false;
            }
        }
        return true;
    }

    private static boolean allBits(SampleModel sm, int bits) {
        for (int b = 0; b < sm.getNumBands(); b++) {
            if (sm.getSampleSize(b) != bits) {
                return false;
            }
        }
        return true;
    }

    private static boolean singleBank(ComponentSampleModel csm) {
        for (int b : csm.getBankIndices()) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    /** Palette, 1/2/4/16-bit and other layouts: a packed RGB copy by the rules in the class comment. */
    private static RgbImage copyToRgb(BufferedImage img, ColorModel cm, Raster r, int w, int h, boolean gray, String name)
            throws ReskernException {
        byte[] out;
        try {
            out = new byte[Math.multiplyExact(Math.multiplyExact(w, h), 3)];
        } catch (OutOfMemoryError | ArithmeticException e) {
            throw new ReskernException(ErrorCode.OUT_OF_MEMORY, name + ": no memory for " + w + "x" + h + " RGB pixels");
        }
        SampleModel sm = r.getSampleModel();
        int bands = sm.getNumBands();
        int[] px = new int[w * bands];
        int x0 = r.getMinX();
        int y0 = r.getMinY();
        if (cm instanceof IndexColorModel icm) {
            int n = icm.getMapSize();
            byte[] rr = new byte[n];
            byte[] gg = new byte[n];
            byte[] bb = new byte[n];
            icm.getReds(rr);
            icm.getGreens(gg);
            icm.getBlues(bb);
            for (int y = 0; y < h; y++) {
                r.getSamples(x0, y0 + y, w, 1, 0, px);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    int i = px[x];
                    if (i < 0 || i >= n) {
                        throw new ReskernException(ErrorCode.BAD_FILE, name + ": palette index " + i + " outside a palette of " + n);
                    }
                    out[o++] = rr[i];
                    out[o++] = gg[i];
                    out[o++] = bb[i];
                }
            }
        } else {
            int colour = gray ? 1 : 3;
            if (bands < colour) {
                throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + bands + " bands, need " + colour);
            }
            long[] max = new long[colour];
            for (int c = 0; c < colour; c++) {
                int bits = sm.getSampleSize(c);
                if (bits < 1 || bits > 16) {
                    throw new ReskernException(ErrorCode.BAD_FILE, name + ": " + bits + "-bit samples are not supported");
                }
                max[c] = (1L << bits) - 1;
            }
            for (int y = 0; y < h; y++) {
                r.getPixels(x0, y0 + y, w, 1, px);
                int o = y * w * 3;
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        int b = gray ? 0 : c;
                        long v = px[x * bands + b] & 0xffffffffL;
                        long m = max[b];
                        out[o++] = (byte) (m == 255 ? v : (v * 255 + m / 2) / m);
                    }
                }
            }
        }
        return RgbImage.ofRgb(out, h, w).withSource(name);
    }

    @Override
    public String toString() {
        return "ImageDecoder[maxPixels " + maxPixels + "]";
    }
}
