package demo;

import io.reskern.Model;
import io.reskern.serve.Input;
import io.reskern.serve.Predictions;
import io.reskern.serve.Predictor;
import java.util.Random;

/** What a user's service does first: build a predictor from the dependency alone and classify; prints one line. */
public final class App {
    public static void main(String[] args) throws Exception {
        float[] x = new float[2 * 3 * 32 * 32];
        Random r = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        float[] direct;
        try (Model m = Model.builder().model("cifar_resnet20").optSeed(3).build()) {
            direct = m.predict(x, 2, 32, 32);
        }
        try (Predictor p = Predictor.builder(Model.builder().model("cifar_resnet20").optSeed(3)).optMaxBatch(4).build()) {
            Predictions got = p.predict(Input.nchw(x, 2));
            if (!java.util.Arrays.equals(direct, got.logits())) {
                throw new AssertionError("Predictor and Model disagree");
            }
            System.out.println("consumer ok: " + p + ", top-1 of image 0: " + got.topK(0, 1).get(0).index());
        }
    }
}
