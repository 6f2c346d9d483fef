package io.reskern.ops;

/**
 * float64 references of every op in {@code reskern_cpu.h} / {@code reskern_cuda.h}, written from the formulas (and
 * torch's documented semantics), deliberately naive. NHWC layouts, KRSC weights.
 */
public final class Reference {
    private Reference() {
    }

    /** y = relu?(scale ⊙ conv(x, W) + shift + residual); residual mode 0 none, 1 identity, 2 option A. */
    public static double[] conv(float[] x, int n, int h, int w, int c, float[] wt, int k, int r, int s, int stride, int padH,
                                int padW, int groups, float[] scale, float[] shift, float[] res, int resMode, int rh, int rw,
                                int rc, boolean relu, int p, int q) {
        int cg = c / groups;
        int kg = k / groups;
        int apad = (k - rc) / 2;
        double[] y = new double[n * p * q * k];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < q; j++) {
                    for (int o = 0; o < k; o++) {
                        int g = o / kg;
                        double acc = 0;
                        for (int dr = 0; dr < r; dr++) {
                            int hi = i * stride - padH + dr;
                            if (hi < 0 || hi >= h) {
                                continue;
                            }
                            for (int ds = 0; ds < s; ds++) {
                                int wi = j * stride - padW + ds;
                                if (wi < 0 || wi >= w) {
                                    continue;
                                }
                                for (int ci = 0; ci < cg; ci++) {
                                    acc += (double) x[((b * h + hi) * w + wi) * c + g * cg + ci] * wt[((o * r + dr) * s + ds) * cg + ci];
                                }
                            }
                        }
                        double v = acc * (scale != null ? scale[o] : 1.0) + (shift != null ? shift[o] : 0.0);
                        int yi = ((b * p + i) * q + j) * k + o;
                        if (resMode == 1) {
                            v += res[yi];
                        } else if (resMode == 2) {
                            int kc = o - apad;
                            if (kc >= 0 && kc < rc) {
                                v += res[((b * rh + 2 * i) * rw + 2 * j) * rc + kc];
                            }
                        }
                        y[yi] = relu && v < 0 ? 0 : v;
                    }
                }
            }
        }
        return y;
    }

    public static double[] bnRelu(float[] x, int m, int c, float[] scale, float[] shift, boolean relu) {
        double[] y = new double[m * c];
        for (int i = 0; i < m; i++) {
            for (int ch = 0; ch < c; ch++) {
                double v = (double) scale[ch] * x[i * c + ch] + shift[ch];
                y[i * c + ch] = relu && v < 0 ? 0 : v;
            }
        }
        return y;
    }

    public static double[] addRelu(float[] a, float[] b, boolean relu) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            double v = (double) a[i] + b[i];
            y[i] = relu && v < 0 ? 0 : v;
        }
        return y;
    }

    /** Max pool; taps outside the input never win (−∞ padding). */
    public static double[] maxPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                                   int p, int q) {
        double[] y = new double[n * p * q * c];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < q; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        double m = Double.NEGATIVE_INFINITY;
                        for (int dr = 0; dr < kh; dr++) {
                            for (int ds = 0; ds < kw; ds++) {
                                int hi = i * stride - padH + dr;
                                int wi = j * stride - padW + ds;
                                if (hi >= 0 && hi < h && wi >= 0 && wi < w) {
                                    m = Math.max(m, x[((b * h + hi) * w + wi) * c + ch]);
                                }
                            }
                        }
                        y[((b * p + i) * q + j) * c + ch] = m;
                    }
                }
            }
        }
        return y;
    }

    /**
     * torch AvgPool2d: the window [h0, h0+kh) is clipped to [−pad, H+pad); count_include_pad divides by the clipped
     * window's size, otherwise by the number of in-input taps.
     */
    public static double[] avgPool(float[] x, int n, int h, int w, int c, int kh, int kw, int stride, int padH, int padW,
                                   boolean countIncludePad, int p, int q) {
        double[] y = new double[n * p * q * c];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < q; j++) {
                    int h0 = i * stride - padH;
                    int w0 = j * stride - padW;
                    int h1 = Math.min(h0 + kh, h + padH);
                    int w1 = Math.min(w0 + kw, w + padW);
                    int pool = (h1 - h0) * (w1 - w0);
                    int cnt = 0;
                    for (int ch = 0; ch < c; ch++) {
                        double acc = 0;
                        cnt = 0;
                        for (int hi = Math.max(h0, 0); hi < Math.min(h1, h); hi++) {
                            for (int wi = Math.max(w0, 0); wi < Math.min(w1, w); wi++) {
                                acc += x[((b * h + hi) * w + wi) * c + ch];
                                cnt++;
                            }
                        }
                        y[((b * p + i) * q + j) * c + ch] = acc / (countIncludePad ? pool : cnt);
                    }
                }
            }
        }
        return y;
    }

    public static double[] globalAvgPool(float[] x, int n, int hw, int c) {
        double[] y = new double[n * c];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < hw; i++) {
                for (int ch = 0; ch < c; ch++) {
                    y[b * c + ch] += x[(b * hw + i) * c + ch];
                }
            }
            for (int ch = 0; ch < c; ch++) {
                y[b * c + ch] /= hw;
            }
        }
        return y;
    }

    public static double[] fc(float[] x, int n, int c, float[] w, float[] bias, int k) {
        double[] y = new double[n * k];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < k; o++) {
                double acc = bias != null ? bias[o] : 0;
                for (int i = 0; i < c; i++) {
                    acc += (double) x[b * c + i] * w[o * c + i];
                }
                y[b * k + o] = acc;
            }
        }
        return y;
    }

    public static double[] nchwToNhwc(float[] x, int n, int c, int h, int w) {
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < h * w; i++) {
                    y[(b * h * w + i) * c + ch] = x[(b * c + ch) * h * w + i];
                }
            }
        }
        return y;
    }

    public static double[] preprocessU8(byte[] x, float[] mean, float[] std) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int c = i % 3;
            y[i] = ((x[i] & 0xff) / 255.0 - mean[c]) / std[c];
        }
        return y;
    }

    /**
     * y[p,q,c] = (Σ_j wx[q,j] · Σ_i wy[p,i] · x[ys[p]+i, xs[q]+j, c] / 255 − mean[c]) / std[c], with
     * x[r,j,c] = bytes[r·rowStride + j·pixelStride + off[c]]; the plan's float weights, in float64.
     */
    public static double[] resampleNormalizeU8(byte[] x, int rowStride, int pixelStride, int[] off,
                                               io.reskern.image.ResamplePlan plan) {
        io.reskern.image.Taps rows = plan.rows();
        io.reskern.image.Taps cols = plan.cols();
        int pp = plan.outHeight();
        int qq = plan.outWidth();
        float[] mean = plan.mean();
        float[] std = plan.std();
        double[] y = new double[pp * qq * 3];
        for (int p = 0; p < pp; p++) {
            for (int q = 0; q < qq; q++) {
                for (int c = 0; c < 3; c++) {
                    double acc = 0;
                    for (int j = 0; j < cols.count()[q]; j++) {
                        double t = 0;
                        for (int i = 0; i < rows.count()[p]; i++) {
                            int r = rows.start()[p] + i;
                            int col = cols.start()[q] + j;
                            t += (double) rows.weight(p, i) * (x[r * rowStride + col * pixelStride + off[c]] & 0xff);
                        }
                        acc += (double) cols.weight(q, j) * t;
                    }
                    y[(p * qq + q) * 3 + c] = (acc / 255.0 - mean[c]) / std[c];
                }
            }
        }
        return y;
    }

    /** ‖out − ref‖₂ / ‖ref‖₂ (NaN if out has a NaN or an infinity where ref is finite). */
    public static double relError(float[] out, double[] ref) {
        if (out.length != ref.length) {
            throw new AssertionError("length " + out.length + " != " + ref.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < out.length; i++) {
            if (!Double.isFinite(out[i]) && Double.isFinite(ref[i])) {
                return Double.NaN;
            }
            double d = out[i] - ref[i];
            num += d * d;
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
