package io.reskern.image;

import java.util.Arrays;

/**
 * Image preprocessing as data: torchvision's {@code Resize(resizeShorter)}, {@code CenterCrop(cropHeight, cropWidth)},
 * {@code ToTensor()}, {@code Normalize(mean, std)}, run as one resampling pass (see {@link ResamplePlan}).
 * <ul>
 *   <li>Resize: the shorter side becomes {@code resizeShorter}, the longer {@code int(S · long / short)}
 *       (torchvision's {@code Resize(int)}); antialiased bilinear, as {@code F.interpolate(antialias=True)} and PIL's
 *       {@code BILINEAR}. {@code resizeShorter == 0}: no resize.</li>
 *   <li>Centre crop: offsets {@code int(round((h − cropHeight) / 2))} (Python's round half to even), as
 *       torchvision's {@code CenterCrop}. A crop larger than the (resized) image is zero-padded as torchvision does
 *       ({@code (crop − h) // 2} zero rows on top, the rest below; columns alike): padded pixels are black, i.e.
 *       {@code (0 − mean) / std} after normalisation.</li>
 *   <li>Normalise: {@code (v / 255 − mean[c]) / std[c]} on RGB.</li>
 * </ul>
 */
public record Preprocess(int resizeShorter, int cropHeight, int cropWidth, float[] mean, float[] std) {
    /** ImageNet statistics (torchvision's classification models). */
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    /** Largest resize target and crop side accepted. */
    public static final int MAX_SIDE = 1 << 14;

    public Preprocess {
        if (resizeShorter < 0 || resizeShorter > MAX_SIDE) {
            throw new IllegalArgumentException("resizeShorter must be in [0, " + MAX_SIDE + "] (0 = no resize): " + resizeShorter);
        }
        if (cropHeight < 1 || cropWidth < 1 || cropHeight > MAX_SIDE || cropWidth > MAX_SIDE) {
            throw new IllegalArgumentException("crop must be in [1, " + MAX_SIDE + "]: " + cropHeight + "x" + cropWidth);
        }
        if (mean == null || std == null || mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values (R, G, B)");
        }
        for (int c = 0; c < 3; c++) {
            if (!Float.isFinite(mean[c]) || !(std[c] > 0) || !Float.isFinite(std[c])) {
                throw new IllegalArgumentException("mean must be finite and std finite and > 0: " + Arrays.toString(mean)
                        + ", " + Arrays.toString(std));
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    /** {@code Resize(256), CenterCrop(224)}, ImageNet mean/std: torchvision's ImageNet evaluation transform. */
    public static Preprocess imagenet() {
        return new Preprocess(256, 224, 224, IMAGENET_MEAN, IMAGENET_STD);
    }

    /**
     * CIFAR-10 nets: no resize, {@code CenterCrop(32)} (32×32 inputs pass unchanged), and the mean/std the trained
     * nets in {@code shared/models/cifar10-resnet} were trained with — the ImageNet values (see its README). For
     * photos larger than 32×32 use {@code new Preprocess(32, 32, 32, IMAGENET_MEAN, IMAGENET_STD)} instead.
     */
    public static Preprocess cifar() {
        return new Preprocess(0, 32, 32, IMAGENET_MEAN, IMAGENET_STD);
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** {@code {height, width}} after the resize step, for an image of {@code h × w} (torchvision {@code Resize(int)}). */
    public int[] resizedSize(int h, int w) {
        if (h < 1 || w < 1) {
            throw new IllegalArgumentException("image size must be positive: " + h + "x" + w);
        }
        if (resizeShorter == 0) {
            return new int[] {h, w};
        }
        int shorter = Math.min(h, w);
        int longer = Math.max(h, w);
        long newLong = (long) ((double) ((long) resizeShorter * longer) / shorter); // Python int(S * long / short)
        if (newLong > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("resized image too large: " + h + "x" + w + " -> long side " + newLong);
        }
        return w <= h ? new int[] {(int) newLong, resizeShorter} : new int[] {resizeShorter, (int) newLong};
    }

    /**
     * Offset of the crop in a dimension of {@code size}: {@code int(round((size − crop) / 2))} (half to even) when
     * the crop fits, else minus the number of zero rows padded in front, {@code −((crop − size) // 2)}.
     */
    static int cropOffset(int size, int crop) {
        if (crop > size) {
            return -((crop - size) / 2);
        }
        return (int) Math.rint((size - crop) / 2.0);
    }

    /** The resampling plan (taps + normalisation) for an image of {@code h × w}. */
    public ResamplePlan plan(int h, int w) {
        int[] r = resizedSize(h, w);
        Taps rows = Taps.antialiasBilinear(h, r[0], cropHeight, cropOffset(r[0], cropHeight));
        Taps cols = Taps.antialiasBilinear(w, r[1], cropWidth, cropOffset(r[1], cropWidth));
        return new ResamplePlan(h, w, rows, cols, mean, std);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Preprocess p && p.resizeShorter == resizeShorter && p.cropHeight == cropHeight
                && p.cropWidth == cropWidth && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
    }

    @Override
    public int hashCode() {
        return ((resizeShorter * 31 + cropHeight) * 31 + cropWidth) * 31 + Arrays.hashCode(mean) * 7 + Arrays.hashCode(std);
    }

    @Override
    public String toString() {
        return "Preprocess[resize " + (resizeShorter == 0 ? "none" : "shorter->" + resizeShorter) + ", crop " + cropHeight
                + "x" + cropWidth + ", mean " + Arrays.toString(mean) + ", std " + Arrays.toString(std) + "]";
    }
}
