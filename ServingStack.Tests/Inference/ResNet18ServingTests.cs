using System.Text.Json.Nodes;
using Microsoft.ML.OnnxRuntime;
using ServingStack.Tests.Fixtures;

namespace ServingStack.Tests.Inference;

/// <summary>A real trained model: ResNet18 from its NuGet package, batch dimension made dynamic, served at batch 2.</summary>
public sealed class ResNet18ServingTests : IDisposable
{
    private readonly TempModelRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private static float[] Image(int seed)
    {
        var pixels = new float[ResNet18Model.InputChannels * ResNet18Model.InputHeight * ResNet18Model.InputWidth];
        var state = (uint)seed * 747796405u + 2891336453u;
        for (var i = 0; i < pixels.Length; i++)
        {
            state = state * 1664525u + 1013904223u;
            pixels[i] = (state >> 24) / 255f * 2f - 1f;
        }

        return pixels;
    }

    [Fact]
    public async Task Dynamic_batch_ResNet18_served_at_batch_2_matches_the_original_model_per_image()
    {
        var original = PackagedResNet18.Path();
        var versionDir = Path.Combine(_repo.ModelPath("resnet18"), "1");
        ResNet18Model.WriteDynamicBatch(original, Path.Combine(versionDir, "model.onnx"));
        await using var server = await InferenceServer.StartReadyAsync("--model_name=resnet18", $"--model_base_path={_repo.ModelPath("resnet18")}");

        float[][] images = [Image(1), Image(2)];
        var data = new JsonArray();
        foreach (var image in images)
        {
            foreach (var v in image)
            {
                data.Add(v);
            }
        }

        var request = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject
            {
                ["name"] = ResNet18Model.InputName,
                ["shape"] = new JsonArray(2, ResNet18Model.InputChannels, ResNet18Model.InputHeight, ResNet18Model.InputWidth),
                ["datatype"] = "FP32",
                ["data"] = data,
            }),
        };
        var (status, body, text) = await Json.PostAsync(server.Client, "/v2/models/resnet18/infer", request);
        Assert.True(status == 200, text.Length > 500 ? text[..500] : text);
        var output = body!["outputs"]![0]!;
        Assert.Equal([2L, ResNet18Model.OutputChannels, 1L, 1L], output["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        var served = Json.Floats(output["data"]);

        // Reference: the unmodified packaged model, one image at a time, in-process.
        using var session = new InferenceSession(original);
        for (var i = 0; i < images.Length; i++)
        {
            using var input = OrtValue.CreateTensorValueFromMemory(images[i], [1, ResNet18Model.InputChannels, ResNet18Model.InputHeight, ResNet18Model.InputWidth]);
            using var results = session.Run(new RunOptions(), [ResNet18Model.InputName], [input], [ResNet18Model.OutputName]);
            var expected = results[0].GetTensorDataAsSpan<float>().ToArray();
            Assert.Equal(ResNet18Model.OutputChannels, expected.Length);
            for (var c = 0; c < expected.Length; c++)
            {
                var actual = served[i * ResNet18Model.OutputChannels + c];
                Assert.True(Math.Abs(expected[c] - actual) <= 1e-4 * Math.Max(1, Math.Abs(expected[c])),
                    $"image {i} channel {c}: expected {expected[c]} but the server returned {actual}");
            }
        }
    }
}
