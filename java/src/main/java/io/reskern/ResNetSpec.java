package io.reskern;

import java.util.Arrays;
import java.util.Objects;

/**
 * A ResNet variant as data (timm style): every named model in {@link ResNets} is one row of these fields, and
 * {@link io.reskern.graph.GraphBuilder} turns any row into a graph without per-variant branches.
 *
 * <p>The variant letters and what each changes (definitions: {@code shared/docs/variants.md}):
 * <ul>
 *   <li><b>v1</b> (paper): 7×7/2 stem + max-pool; the stride of a downsampling bottleneck on its first 1×1 conv;
 *       projection shortcut = 1×1 conv stride 2 + BN.</li>
 *   <li><b>v1.5 = v1b</b> (torchvision default): as v1 but the stride on the 3×3 conv.</li>
 *   <li><b>v1c</b>: deep stem (3×3 convs 32-32-64) instead of the 7×7.</li>
 *   <li><b>v1d</b> (ResNet-D): deep stem + avg-pool 2×2/2 then 1×1 conv stride 1 + BN in the shortcut.</li>
 *   <li><b>v2</b> (pre-activation): BN-ReLU before each conv, raw 7×7 stem, projection = bare 1×1 conv on the
 *       pre-activated input, final BN-ReLU before the head.</li>
 *   <li><b>CIFAR</b> 6n+2 nets: 3×3 stem of 16, widths 16-32-64, option A (zero-pad, no parameters) or
 *       option B (projection) shortcuts.</li>
 *   <li>ResNeXt / wide: {@code groups} and {@code widthPerGroup} of the bottleneck's 3×3 conv.</li>
 * </ul>
 *
 * @param name          model name, e.g. {@code resnet50d}
 * @param block         basic (two 3×3) or bottleneck (1×1, 3×3, 1×1 with expansion 4)
 * @param layers        blocks per stage
 * @param widths        planes per stage (output channels are {@code widths[i] * block.expansion})
 * @param stem          the stem layout
 * @param stemWidth     width of the deep stem's first two convs (32 for v1c/v1d); unused otherwise
 * @param strideAt      where the stride of a downsampling bottleneck sits
 * @param shortcut      the shortcut used when a block changes shape
 * @param preActivation v2 pre-activation blocks
 * @param groups        groups of the bottleneck 3×3 conv (ResNeXt)
 * @param widthPerGroup bottleneck width per group (64 = plain ResNet; 128 = wide ResNet-50-2; 4 with 32 groups = ResNeXt)
 * @param classes       classifier outputs
 * @param naming        checkpoint naming convention the weights use
 */
public record ResNetSpec(String name, Block block, int[] layers, int[] widths, Stem stem, int stemWidth,
                         StrideAt strideAt, Shortcut shortcut, boolean preActivation, int groups, int widthPerGroup,
                         int classes, Naming naming) {

    /** Residual block type. */
    public enum Block {
        BASIC(1), BOTTLENECK(4);
        public final int expansion;

        Block(int expansion) {
            this.expansion = expansion;
        }
    }

    /** Stem layouts. */
    public enum Stem {
        /** 7×7/2 conv(64)-BN-ReLU, 3×3/2 max-pool (v1, v1.5). */
        CONV7,
        /** 3×3/2 conv(w)-BN-ReLU, 3×3 conv(w)-BN-ReLU, 3×3 conv(64)-BN-ReLU, 3×3/2 max-pool (v1c, v1d). */
        DEEP,
        /** 7×7/2 conv(64) with no BN and no ReLU, then max-pool with −∞ padding (v2). */
        CONV7_PREACT,
        /** 3×3 conv(16)-BN-ReLU, no pool (CIFAR). */
        CIFAR
    }

    /** Where a downsampling bottleneck puts its stride. */
    public enum StrideAt { FIRST_1X1, CONV3X3 }

    /** Shortcut of a block whose shape changes. */
    public enum Shortcut {
        /** 1×1 conv with the block's stride + BN. */
        PROJECTION,
        /** Avg-pool 2×2/2 (ceil, count_include_pad=False; absent at stride 1) + 1×1 conv + BN (v1d). */
        AVG_DOWN,
        /** Subsample by 2 and zero-pad channels, no parameters (CIFAR option A). */
        OPTION_A,
        /** 1×1 conv with the block's stride, no BN, applied to the pre-activated input (v2). */
        PREACT_PROJECTION
    }

    /** Tensor naming conventions of real checkpoints. */
    public enum Naming { TORCHVISION, TIMM, TIMM_V2, CIFAR }

    public ResNetSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(block, "block");
        Objects.requireNonNull(stem, "stem");
        Objects.requireNonNull(strideAt, "strideAt");
        Objects.requireNonNull(shortcut, "shortcut");
        Objects.requireNonNull(naming, "naming");
        layers = layers.clone();
        widths = widths.clone();
        if (layers.length == 0 || layers.length != widths.length) {
            throw new IllegalArgumentException(name + ": layers and widths must be non-empty and of equal length");
        }
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] < 1 || widths[i] < 1) {
                throw new IllegalArgumentException(name + ": stage " + i + " needs >= 1 block and width >= 1");
            }
        }
        if (classes < 1) {
            throw new IllegalArgumentException(name + ": classes must be >= 1, got " + classes);
        }
        if (groups < 1 || widthPerGroup < 1) {
            throw new IllegalArgumentException(name + ": groups and widthPerGroup must be >= 1");
        }
        if (block == Block.BASIC && (groups != 1 || widthPerGroup != 64)) {
            throw new IllegalArgumentException(name + ": basic blocks support only groups=1, widthPerGroup=64");
        }
        if (stem == Stem.DEEP && (stemWidth < 1 || stemWidth > MAX_CHANNELS)) {
            throw new IllegalArgumentException(name + ": the deep stem needs 1 <= stemWidth <= " + MAX_CHANNELS + ", got "
                    + stemWidth);
        }
        for (int i = 0; i < layers.length; i++) {
            // checked here, in long: such a spec used to fail late and obscurely (a 0-channel bottleneck conv was
            // "cannot pack Conv[...]" from the native library, a negative stem width a NegativeArraySizeException)
            // or wrap around int silently (widthPerGroup 2^26 built a graph with a few thousand parameters)
            long out = (long) widths[i] * block.expansion;
            if (out > MAX_CHANNELS) {
                throw new IllegalArgumentException(name + ": stage " + i + " has " + out + " output channels (widths[" + i
                        + "] * " + block.expansion + "), more than " + MAX_CHANNELS);
            }
            if (block == Block.BOTTLENECK) {
                long inner = innerWidth(widths[i], widthPerGroup, groups);
                if (inner < 1 || inner > MAX_CHANNELS) {
                    throw new IllegalArgumentException(name + ": stage " + i + " bottleneck width widths[" + i + "] * "
                            + "widthPerGroup / 64 * groups = " + widths[i] + " * " + widthPerGroup + " / 64 * " + groups
                            + " = " + inner + " is outside 1 .. " + MAX_CHANNELS);
                }
            }
        }
        if (preActivation != (shortcut == Shortcut.PREACT_PROJECTION)) {
            throw new IllegalArgumentException(name + ": pre-activation blocks go with the PREACT_PROJECTION shortcut");
        }
        if (preActivation != (stem == Stem.CONV7_PREACT)) {
            throw new IllegalArgumentException(name + ": pre-activation blocks go with the CONV7_PREACT stem");
        }
    }

    @Override
    public int[] layers() {
        return layers.clone();
    }

    @Override
    public int[] widths() {
        return widths.clone();
    }

    /** Most channels any conv of a spec may have (widths, bottleneck widths, stem width). */
    public static final int MAX_CHANNELS = 1 << 16;

    private static long innerWidth(long planes, long widthPerGroup, long groups) {
        return planes * widthPerGroup / 64 * groups; // torchvision: int(planes * (base_width / 64.)) * groups
    }

    /** Channels of the 3×3 conv of a bottleneck in stage {@code stage}: {@code widths[stage] · widthPerGroup / 64 · groups}. */
    public int bottleneckWidth(int stage) {
        return (int) innerWidth(widths[stage], widthPerGroup, groups);
    }

    /** The same spec with another number of classes. */
    public ResNetSpec withClasses(int newClasses) {
        return new ResNetSpec(name, block, layers, widths, stem, stemWidth, strideAt, shortcut, preActivation, groups,
                widthPerGroup, newClasses, naming);
    }

    /** The same spec with another shortcut (CIFAR option A ↔ B). */
    public ResNetSpec withShortcut(Shortcut newShortcut) {
        return new ResNetSpec(name, block, layers, widths, stem, stemWidth, strideAt, newShortcut, preActivation, groups,
                widthPerGroup, classes, naming);
    }

    /** Total depth counted as torchvision does (weighted layers: convs on the main path + stem + fc). */
    public int depth() {
        int convsPerBlock = block == Block.BASIC ? 2 : 3;
        return Arrays.stream(layers).sum() * convsPerBlock + 2;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ResNetSpec s && name.equals(s.name) && block == s.block && Arrays.equals(layers, s.layers)
                && Arrays.equals(widths, s.widths) && stem == s.stem && stemWidth == s.stemWidth && strideAt == s.strideAt
                && shortcut == s.shortcut && preActivation == s.preActivation && groups == s.groups
                && widthPerGroup == s.widthPerGroup && classes == s.classes && naming == s.naming;
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, block, Arrays.hashCode(layers), Arrays.hashCode(widths), stem, stemWidth, strideAt,
                shortcut, preActivation, groups, widthPerGroup, classes, naming);
    }

    @Override
    public String toString() {
        return name + "[" + block + " " + Arrays.toString(layers) + " widths=" + Arrays.toString(widths) + " stem=" + stem
                + " stride@" + strideAt + " shortcut=" + shortcut + (groups > 1 ? " groups=" + groups : "")
                + (widthPerGroup != 64 ? " widthPerGroup=" + widthPerGroup : "") + " classes=" + classes + "]";
    }
}
