package io.reskern;

import io.reskern.ResNetSpec.Block;
import io.reskern.ResNetSpec.Naming;
import io.reskern.ResNetSpec.Shortcut;
import io.reskern.ResNetSpec.Stem;
import io.reskern.ResNetSpec.StrideAt;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The named models, as rows of data. Names (the CLI's {@code --model}):
 * <pre>
 *   resnet{18,34,50,101,152}        v1.5 (torchvision)        resnet{..}_v1   v1 (stride on the first 1×1)
 *   resnet{..}c                     v1c (timm, deep stem)     resnet{..}d     v1d (timm, deep stem + avg-down)
 *   resnetv2_{18,34,50,101,152}     v2 pre-activation (timm)
 *   cifar_resnet{20,32,44,56,110,1202} and any cifar_resnet(6n+2), 8 ≤ 6n+2 ≤ {@value #MAX_CIFAR_DEPTH}   CIFAR, option A (B with withShortcut)
 *   resnext50_32x4d, resnext101_32x8d, wide_resnet50_2, wide_resnet101_2   (torchvision)
 * </pre>
 */
public final class ResNets {
    private ResNets() {
    }

    private static final Map<Integer, int[]> IMAGENET_LAYERS = Map.of(
            18, new int[] {2, 2, 2, 2}, 34, new int[] {3, 4, 6, 3}, 50, new int[] {3, 4, 6, 3},
            101, new int[] {3, 4, 23, 3}, 152, new int[] {3, 8, 36, 3});
    private static final int[] IMAGENET_WIDTHS = {64, 128, 256, 512};
    private static final int[] CIFAR_WIDTHS = {16, 32, 64};

    /** One ImageNet variant family: stem, stride placement, shortcut, naming — the rest follows from the depth. */
    private record Family(String suffixPattern, Stem stem, int stemWidth, StrideAt strideAt, Shortcut shortcut,
                          boolean preAct, Naming naming) {
    }

    private static final Map<String, Family> FAMILIES = new LinkedHashMap<>();

    static {
        FAMILIES.put("v1.5", new Family("resnet(\\d+)", Stem.CONV7, 64, StrideAt.CONV3X3, Shortcut.PROJECTION, false, Naming.TORCHVISION));
        FAMILIES.put("v1", new Family("resnet(\\d+)_v1", Stem.CONV7, 64, StrideAt.FIRST_1X1, Shortcut.PROJECTION, false, Naming.TORCHVISION));
        FAMILIES.put("v1c", new Family("resnet(\\d+)c", Stem.DEEP, 32, StrideAt.CONV3X3, Shortcut.PROJECTION, false, Naming.TIMM));
        FAMILIES.put("v1d", new Family("resnet(\\d+)d", Stem.DEEP, 32, StrideAt.CONV3X3, Shortcut.AVG_DOWN, false, Naming.TIMM));
        FAMILIES.put("v2", new Family("resnetv2_(\\d+)", Stem.CONV7_PREACT, 64, StrideAt.CONV3X3, Shortcut.PREACT_PROJECTION, true, Naming.TIMM_V2));
    }

    private static final Pattern CIFAR = Pattern.compile("cifar_resnet(\\d+)");

    /** Deepest CIFAR ResNet built by name (n = 1666 blocks per stage, ~160 M parameters; the paper's deepest is 1202). */
    public static final int MAX_CIFAR_DEPTH = 10_000;

    /** Grouped / wide torchvision bottlenecks: name → {depth, groups, widthPerGroup}. */
    private static final Map<String, int[]> GROUPED = Map.of(
            "resnext50_32x4d", new int[] {50, 32, 4}, "resnext101_32x8d", new int[] {101, 32, 8},
            "wide_resnet50_2", new int[] {50, 1, 128}, "wide_resnet101_2", new int[] {101, 1, 128});

    /** The names listed in help texts and {@code compare}. */
    public static List<String> names() {
        List<String> out = new java.util.ArrayList<>();
        for (int d : new int[] {18, 34, 50, 101, 152}) {
            out.add("resnet" + d);
        }
        for (int d : new int[] {18, 34, 50, 101, 152}) {
            out.add("resnet" + d + "_v1");
        }
        for (int d : new int[] {18, 34, 50, 101, 152}) {
            out.add("resnet" + d + "c");
            out.add("resnet" + d + "d");
        }
        for (int d : new int[] {18, 34, 50, 101, 152}) {
            out.add("resnetv2_" + d);
        }
        for (int d : new int[] {20, 32, 44, 56, 110, 1202}) {
            out.add("cifar_resnet" + d);
        }
        out.addAll(List.of("resnext50_32x4d", "resnext101_32x8d", "wide_resnet50_2", "wide_resnet101_2"));
        return Collections.unmodifiableList(out);
    }

    /**
     * The spec of a named model with its default classes (1000 for ImageNet models, 10 for CIFAR).
     *
     * @throws IllegalArgumentException for an unknown name, with the list of known names
     */
    public static ResNetSpec byName(String name) {
        String n = name.trim().toLowerCase(java.util.Locale.ROOT);
        int[] g = GROUPED.get(n);
        if (g != null) {
            return new ResNetSpec(n, Block.BOTTLENECK, IMAGENET_LAYERS.get(g[0]), IMAGENET_WIDTHS, Stem.CONV7, 64,
                    StrideAt.CONV3X3, Shortcut.PROJECTION, false, g[1], g[2], 1000, Naming.TORCHVISION);
        }
        Matcher cm = CIFAR.matcher(n);
        if (cm.matches()) {
            String digits = cm.group(1);
            // a depth of more digits than an int holds was a NumberFormatException ("For input string"), and a
            // valid-looking 2000000000 an OutOfMemoryError while building a graph of 10^9 blocks
            int depth = digits.length() > 6 ? Integer.MAX_VALUE : Integer.parseInt(digits);
            if (depth < 8 || (depth - 2) % 6 != 0 || depth > MAX_CIFAR_DEPTH || digits.startsWith("0")) {
                throw new IllegalArgumentException("unknown model '" + name + "': CIFAR ResNets have depth 6n+2 from 8 to "
                        + MAX_CIFAR_DEPTH + " (20, 32, 44, 56, 110, 1202, …), written without leading zeros, got " + digits);
            }
            int blocks = (depth - 2) / 6;
            return new ResNetSpec(n, Block.BASIC, new int[] {blocks, blocks, blocks}, CIFAR_WIDTHS, Stem.CIFAR, 16,
                    StrideAt.CONV3X3, Shortcut.OPTION_A, false, 1, 64, 10, Naming.CIFAR);
        }
        for (Family f : FAMILIES.values()) {
            Matcher m = Pattern.compile(f.suffixPattern).matcher(n);
            if (m.matches()) {
                String digits = m.group(1);
                int[] layers = digits.length() > 3 || digits.startsWith("0") ? null : IMAGENET_LAYERS.get(Integer.parseInt(digits));
                if (layers == null) {
                    throw new IllegalArgumentException("unknown depth " + digits + " in '" + name
                            + "': ImageNet ResNets have depth 18, 34, 50, 101 or 152");
                }
                int depth = Integer.parseInt(digits);
                Block block = depth < 50 ? Block.BASIC : Block.BOTTLENECK;
                return new ResNetSpec(n, block, layers, IMAGENET_WIDTHS, f.stem, f.stemWidth, f.strideAt, f.shortcut,
                        f.preAct, 1, 64, 1000, f.naming);
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "'; known: " + String.join(", ", names())
                + " (and any cifar_resnet(6n+2) up to depth " + MAX_CIFAR_DEPTH + ")");
    }

    /** The variant family label of a spec (v1, v1.5, v1c, v1d, v2, cifar-A, cifar-B, resnext, wide). */
    public static String family(ResNetSpec s) {
        if (s.stem() == Stem.CIFAR) {
            return s.shortcut() == Shortcut.OPTION_A ? "cifar-A" : "cifar-B";
        }
        if (s.preActivation()) {
            return "v2";
        }
        if (s.groups() > 1) {
            return "resnext";
        }
        if (s.widthPerGroup() != 64) {
            return "wide";
        }
        if (s.shortcut() == Shortcut.AVG_DOWN) {
            return "v1d";
        }
        if (s.stem() == Stem.DEEP) {
            return "v1c";
        }
        return s.strideAt() == StrideAt.FIRST_1X1 ? "v1" : "v1.5";
    }
}
