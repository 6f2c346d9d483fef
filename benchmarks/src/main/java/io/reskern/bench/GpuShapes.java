package io.reskern.bench;

import io.reskern.ResNets;
import io.reskern.backend.Fusion;
import io.reskern.backend.conv.ConvProblem;
import io.reskern.graph.Graph;
import io.reskern.graph.GraphBuilder;
import io.reskern.graph.Node;
import io.reskern.graph.Plan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conv launches of the GPU benchmarks, from reskern's own graphs (never typed by hand): the distinct ResNet-50 conv
 * shapes ({@link ConvShapes} ids) and the fused launches only other variants have — {@code d.pool.i}: the i-th distinct
 * v1d avg-pool + 1×1 shortcut of ResNet-50-D, {@code v2.post.i}: the i-th distinct v2 block-end conv with the dual
 * output of ResNetV2-50 — all at 224², batch N.
 */
final class GpuShapes {
    private GpuShapes() {
    }

    static ConvProblem of(ConvShapes.Shape s, int n) {
        return new ConvProblem(n, s.h(), s.w(), s.c(), s.k(), s.r(), s.s(), s.stride(), s.pad(), s.groups(), s.p(), s.q(), false,
                s.residual() ? Node.Residual.IDENTITY : Node.Residual.NONE, s.residual() ? s.p() : 0, s.residual() ? s.q() : 0,
                s.residual() ? s.k() : 0, s.relu(), false);
    }

    /** Distinct fused conv launches of a model's plan that satisfy {@code want}, in network order, with their names. */
    static Map<String, ConvProblem> distinct(String model, int n, java.util.function.Predicate<Fusion.ConvStep> want) {
        Graph g = GraphBuilder.build(ResNets.byName(model));
        Plan plan = g.plan(n, ConvShapes.IMAGE, ConvShapes.IMAGE);
        Map<String, ConvProblem> byKey = new LinkedHashMap<>();
        Map<String, String> names = new LinkedHashMap<>();
        for (Fusion.Step st : Fusion.schedule(g)) {
            if (st instanceof Fusion.ConvStep cs && want.test(cs)) {
                ConvProblem pr = ConvProblem.of(cs, plan);
                if (!byKey.containsKey(pr.canonical())) {
                    byKey.put(pr.canonical(), pr);
                    names.put(pr.canonical(), cs.conv().convName());
                }
            }
        }
        Map<String, ConvProblem> out = new LinkedHashMap<>();
        for (Map.Entry<String, ConvProblem> e : byKey.entrySet()) {
            out.put(names.get(e.getKey()), e.getValue());
        }
        return out;
    }

    /** The problem of a benchmark id ({@link ConvShapes} id, {@code d.pool.i}, {@code v2.post.i}). */
    static ConvProblem byId(String id, int n) {
        if (id.startsWith("d.pool.") || id.startsWith("v2.post.")) {
            boolean pool = id.startsWith("d.pool.");
            int i = Integer.parseInt(id.substring(id.lastIndexOf('.') + 1));
            List<ConvProblem> l = new ArrayList<>(pool ? distinct("resnet50d", n, cs -> cs.preAvgPool() != null).values()
                    : distinct("resnetv2_50", n, cs -> cs.post() != null).values());
            if (i < 1 || i > l.size()) {
                throw new IllegalArgumentException(id + ": there are " + l.size() + " such launches (1.." + l.size() + ")");
            }
            return l.get(i - 1);
        }
        return of(ConvShapes.byId(id), n);
    }

    /** Compulsory bytes of one launch (each tensor once): x (+ pooled scratch is not compulsory) + W + y (+ res, + y2). */
    static double bytes(ConvProblem pr, int elemBytes) {
        double x = (double) pr.n() * pr.h() * pr.w() * pr.c();
        double w = (double) pr.k() * (pr.c() / pr.groups()) * pr.r() * pr.s();
        double y = (double) pr.n() * pr.p() * pr.q() * pr.k();
        return elemBytes * (x + w + y * (1 + (pr.hasResidual() ? 1 : 0) + (pr.post() ? 1 : 0)));
    }
}
