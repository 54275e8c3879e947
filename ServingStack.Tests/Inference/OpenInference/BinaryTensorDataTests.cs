using System.Buffers.Binary;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ServingStack.Tests.Fixtures;
using ServingStack.Tests.Inference.TfServing;

namespace ServingStack.Tests.Inference.OpenInference;

/// <summary>
/// Triton's binary tensor data extension on <c>/v2/.../infer</c>. Requests are built byte for byte as tritonclient's HTTP
/// client builds them: the JSON part (inputs carry <c>parameters.binary_data_size</c> instead of <c>data</c>), then each
/// binary input's bytes in input order, with <c>Inference-Header-Content-Length</c> giving the JSON part's length;
/// little-endian row-major elements, BOOL one byte, BYTES a 4-byte little-endian length before each element.
/// </summary>
public sealed class BinaryTensorDataTests : IAsyncLifetime
{
    private const string HeaderLength = "Inference-Header-Content-Length";
    private const string MnistInfer = "/v2/models/mnist/infer";
    private const int Width = 3;

    private readonly TempModelRepository _repo = new();
    private InferenceServer _server = null!;

    public async Task InitializeAsync()
    {
        _repo.AddMlp("mnist", 1, seed: 42);
        _repo.AddVersion("multi", 1, ModelFactory.CreateMultiInputOutput());
        var configs = new List<string> { """{ "name": "mnist", "base_path": "mnist" }""", """{ "name": "multi", "base_path": "multi" }""" };
        foreach (var type in new[] { FixtureElementType.Float16, FixtureElementType.Bool, FixtureElementType.String, FixtureElementType.UInt8, FixtureElementType.Double, FixtureElementType.Int32 })
        {
            var name = Identity(type);
            _repo.AddVersion(name, 1, ModelFactory.CreateIdentity(type, Width));
            configs.Add($$"""{ "name": "{{name}}", "base_path": "{{name}}" }""");
        }

        var config = _repo.WriteConfig("models.json", $$"""{ "model_config_list": [ {{string.Join(", ", configs)}} ] }""");
        _server = await InferenceServer.StartReadyAsync($"--model_config_file={config}");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _repo.Dispose();
    }

    private static string Identity(FixtureElementType type) => "identity_" + type.ToString().ToLowerInvariant();

    [Fact]
    public async Task Server_metadata_lists_the_binary_tensor_data_extension()
    {
        var (status, body, text) = await Json.GetAsync(_server.Client, "/v2");
        Assert.True(status == 200, text);
        Assert.Contains("binary_tensor_data", body!["extensions"]!.AsArray().Select(e => e!.GetValue<string>()));
    }

    [Fact]
    public async Task Binary_input_with_outputs_left_out_gets_every_output_binary_and_matches_the_reference_MLP()
    {
        // tritonclient with no outputs given: binary_data_output in the request's parameters.
        var rows = TestData.MnistRows(3, seed: 31);
        var header = new JsonObject
        {
            ["id"] = "bin-1",
            ["inputs"] = new JsonArray(BinaryInput("x", [3, 784], "FP32", rows.Length * 784 * 4)),
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
        };

        var response = await PostAsync(MnistInfer, header, Floats(rows.SelectMany(r => r)));

        Assert.True(response.Status == 200, response.Text);
        Assert.Equal("application/octet-stream", response.ContentType);
        Assert.Equal("bin-1", response.Json!["id"]!.GetValue<string>());
        var output = Assert.Single(response.Json["outputs"]!.AsArray())!;
        Assert.Equal("probabilities", output["name"]!.GetValue<string>());
        Assert.Equal("FP32", output["datatype"]!.GetValue<string>());
        Assert.Equal([3L, 10L], output["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        Assert.Null(output["data"]);
        Assert.Equal(3 * 10 * 4, output["parameters"]!["binary_data_size"]!.GetValue<long>());
        var values = ReadFloats(response.Binary["probabilities"]);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), values[(r * 10)..((r + 1) * 10)]);
        }
    }

    [Fact]
    public async Task Mixed_JSON_and_binary_inputs_give_a_binary_and_a_JSON_output_each_element_right()
    {
        float[] a = [1.5f, -2f, 3.25f, 0f, 1e-3f, -7f];
        float[] b = [4f, 0.5f, -1f, 8f, 2f, -0.25f];
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(
                BinaryInput("a", [2, 3], "FP32", a.Length * 4),
                new JsonObject { ["name"] = "b", ["shape"] = new JsonArray(2, 3), ["datatype"] = "FP32", ["data"] = new JsonArray(b.Select(v => (JsonNode)v).ToArray()) }),
            ["outputs"] = new JsonArray(
                new JsonObject { ["name"] = "sum", ["parameters"] = new JsonObject { ["binary_data"] = true } },
                new JsonObject { ["name"] = "product" }),
        };

        var response = await PostAsync("/v2/models/multi/infer", header, Floats(a));

        Assert.True(response.Status == 200, response.Text);
        var outputs = response.Json!["outputs"]!.AsArray();
        Assert.Equal(["sum", "product"], outputs.Select(o => o!["name"]!.GetValue<string>()));
        Assert.Equal(6 * 4, outputs[0]!["parameters"]!["binary_data_size"]!.GetValue<long>());
        Assert.Null(outputs[0]!["data"]);
        Assert.Null(outputs[1]!["parameters"]);
        var sum = ReadFloats(response.Binary["sum"]);
        var product = Json.Floats(outputs[1]!["data"]);
        for (var i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i] + b[i], sum[i]);
            Assert.Equal(a[i] * b[i], product[i]);
        }
    }

    [Fact]
    public async Task A_JSON_request_may_ask_for_a_binary_output_and_JSON_only_responses_stay_JSON()
    {
        var row = TestData.MnistRows(1, seed: 5)[0];
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "x", ["shape"] = new JsonArray(1, 784), ["datatype"] = "FP32", ["data"] = new JsonArray(row.Select(v => (JsonNode)v).ToArray()) }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "probabilities", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        };

        // No binary input: tritonclient sends no header length, just the JSON.
        var response = await PostAsync(MnistInfer, header, [], headerLength: null);
        Assert.True(response.Status == 200, response.Text);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(row), ReadFloats(response.Binary["probabilities"]));

        // binary_data: false beats binary_data_output: true.
        header["parameters"] = new JsonObject { ["binary_data_output"] = true };
        header["outputs"]![0]!["parameters"] = new JsonObject { ["binary_data"] = false };
        response = await PostAsync(MnistInfer, header, [], headerLength: null);
        Assert.True(response.Status == 200, response.Text);
        Assert.StartsWith("application/json", response.ContentType);
        Assert.False(response.HasHeaderLength);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(row), Json.Floats(response.Json!["outputs"]![0]!["data"]));
    }

    public static TheoryData<FixtureElementType, string> Datatypes => new()
    {
        { FixtureElementType.Float16, "FP16" },
        { FixtureElementType.Bool, "BOOL" },
        { FixtureElementType.String, "BYTES" },
        { FixtureElementType.UInt8, "UINT8" },
        { FixtureElementType.Double, "FP64" },
        { FixtureElementType.Int32, "INT32" },
    };

    [Theory]
    [MemberData(nameof(Datatypes))]
    public async Task Every_datatype_round_trips_byte_for_byte_through_an_identity_model(FixtureElementType type, string datatype)
    {
        var data = SampleBytes(datatype);
        var header = new JsonObject
        {
            ["inputs"] = new JsonArray(BinaryInput("x", [2, Width], datatype, data.Length)),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "y", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        };

        var response = await PostAsync($"/v2/models/{Identity(type)}/infer", header, data);

        Assert.True(response.Status == 200, response.Text);
        var output = Assert.Single(response.Json!["outputs"]!.AsArray())!;
        Assert.Equal(datatype, output["datatype"]!.GetValue<string>());
        Assert.Equal(data.Length, output["parameters"]!["binary_data_size"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexString(data), Convert.ToHexString(response.Binary["y"]));
    }

    [Fact]
    public async Task FP16_binary_values_reach_the_model_exactly_and_JSON_output_shows_them()
    {
        Half[] values = [(Half)0.5, (Half)(-2), (Half)65504, Half.Epsilon, (Half)0.333, Half.MinValue];
        var bytes = new byte[values.Length * 2];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), values[i]);
        }

        var header = new JsonObject { ["inputs"] = new JsonArray(BinaryInput("x", [2, Width], "FP16", bytes.Length)) };
        var response = await PostAsync($"/v2/models/{Identity(FixtureElementType.Float16)}/infer", header, bytes);

        Assert.True(response.Status == 200, response.Text);
        var data = response.Json!["outputs"]![0]!["data"]!.AsArray();
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal((float)values[i], data[i]!.GetValue<float>());
        }
    }

    [Fact]
    public async Task A_raw_binary_request_with_header_length_0_deduces_the_batch_and_answers_binary()
    {
        var rows = TestData.MnistRows(2, seed: 77);
        var response = await PostAsync(MnistInfer, null, Floats(rows.SelectMany(r => r)), headerLength: 0);

        Assert.True(response.Status == 200, response.Text);
        var output = Assert.Single(response.Json!["outputs"]!.AsArray())!;
        Assert.Equal([2L, 10L], output["shape"]!.AsArray().Select(d => d!.GetValue<long>()));
        var values = ReadFloats(response.Binary["probabilities"]);
        var weights = MlpWeights.Create(42);
        for (var r = 0; r < rows.Length; r++)
        {
            TfServingPredictTests.AssertClose(weights.Evaluate(rows[r]), values[(r * 10)..((r + 1) * 10)]);
        }
    }

    public sealed record Malformed(string Name, string Path, string? Json, byte[] Binary, string? HeaderLength, string[] Fragments)
    {
        public override string ToString() => Name;
    }

    private static readonly byte[] s_twoRows = Floats(TestData.MnistRows(2, seed: 9).SelectMany(r => r));

    private static string MnistHeader(long size, string shape = "[2, 784]", string extra = "") =>
        $$"""{"inputs":[{"name":"x","shape":{{shape}},"datatype":"FP32","parameters":{"binary_data_size":{{size}}}{{extra}}}]}""";

    public static TheoryData<Malformed> MalformedRequests()
    {
        var ok = MnistHeader(s_twoRows.Length);
        return new TheoryData<Malformed>
        {
            new("header length beyond the body", MnistInfer, ok, s_twoRows, (Encoding.UTF8.GetByteCount(ok) + s_twoRows.Length + 1).ToString(),
                [HeaderLength, "but the body has only"]),
            new("header length not a number", MnistInfer, ok, s_twoRows, "abc", [HeaderLength, "'abc'", "non-negative integer"]),
            new("header length negative", MnistInfer, ok, s_twoRows, "-5", [HeaderLength, "'-5'"]),
            new("header length cuts the JSON short", MnistInfer, ok, s_twoRows, "20", [HeaderLength, "first 20 bytes", "not valid JSON"]),
            new("header length past the JSON", MnistInfer, ok, s_twoRows, (Encoding.UTF8.GetByteCount(ok) + 4).ToString(),
                [HeaderLength, "not valid JSON", $"should be {Encoding.UTF8.GetByteCount(ok)}"]),
            new("header missing with binary bytes after the JSON", MnistInfer, ok, s_twoRows, null,
                ["not valid JSON", "binary tensor data needs the " + HeaderLength]),
            new("header missing with binary_data_size", MnistInfer, ok, [], null, ["input 'x'", "binary_data_size", "no " + HeaderLength]),
            new("sizes add up to less than the binary part", MnistInfer, ok, [.. s_twoRows, 1, 2, 3, 4], "auto",
                [$"{s_twoRows.Length + 4} bytes of binary data", $"add up to {s_twoRows.Length}"]),
            new("size larger than the binary part", MnistInfer, MnistHeader(s_twoRows.Length + 4), s_twoRows, "auto",
                ["input 'x'", $"binary_data_size is {s_twoRows.Length + 4}", $"only {s_twoRows.Length} bytes"]),
            new("size does not match shape times datatype", MnistInfer, MnistHeader(784 * 4, "[2, 784]"), s_twoRows[..(784 * 4)], "auto",
                ["input 'x'", $"{784 * 4} bytes of binary data", "[2,784]", "1568 × 4 = 6272"]),
            new("size together with data", MnistInfer, MnistHeader(s_twoRows.Length, extra: "") .Replace("}}]", "},\"data\":[1]}]"), s_twoRows, "auto",
                ["input 'x'", "both 'data' and binary_data_size"]),
            new("negative size", MnistInfer, MnistHeader(-8), s_twoRows, "auto", ["input 'x'", "binary_data_size", "non-negative integer", "-8"]),
            new("size beyond int64", MnistInfer, MnistHeader(0).Replace(":0}", ":18446744073709551616}"), s_twoRows, "auto",
                ["input 'x'", "binary_data_size", "18446744073709551616"]),
            new("size int64 max", MnistInfer, MnistHeader(long.MaxValue), s_twoRows, "auto", ["input 'x'", $"binary_data_size is {long.MaxValue}"]),
            new("size a fraction", MnistInfer, MnistHeader(0).Replace(":0}", ":16.5}"), s_twoRows, "auto", ["input 'x'", "binary_data_size", "16.5"]),
            new("size a string", MnistInfer, MnistHeader(0).Replace(":0}", ":\"6272\"}"), s_twoRows, "auto", ["input 'x'", "binary_data_size", "\"6272\""]),
            new("parameters not an object", MnistInfer, """{"inputs":[{"name":"x","shape":[2,784],"datatype":"FP32","parameters":[1]}]}""", s_twoRows, "auto",
                ["input 'x'", "'parameters' must be an object"]),
            new("BOOL byte that is not 0 or 1", $"/v2/models/{Identity(FixtureElementType.Bool)}/infer",
                """{"inputs":[{"name":"x","shape":[1,3],"datatype":"BOOL","parameters":{"binary_data_size":3}}]}""", [1, 0, 2], "auto",
                ["input 'x'", "BOOL element 2", "0 or 1"]),
            new("BYTES length prefix past the end", $"/v2/models/{Identity(FixtureElementType.String)}/infer",
                """{"inputs":[{"name":"x","shape":[1,2],"datatype":"BYTES","parameters":{"binary_data_size":9}}]}""", [1, 0, 0, 0, 65, 200, 0, 0, 0], "auto",
                ["input 'x'", "BYTES element 1", "length prefix of 200"]),
            new("BYTES element not UTF-8", $"/v2/models/{Identity(FixtureElementType.String)}/infer",
                """{"inputs":[{"name":"x","shape":[1,1],"datatype":"BYTES","parameters":{"binary_data_size":6}}]}""", [2, 0, 0, 0, 0xC3, 0x28], "auto",
                ["input 'x'", "BYTES element 0", "not valid UTF-8"]),
            new("BYTES elements fewer than the shape", $"/v2/models/{Identity(FixtureElementType.String)}/infer",
                """{"inputs":[{"name":"x","shape":[1,3],"datatype":"BYTES","parameters":{"binary_data_size":5}}]}""", [1, 0, 0, 0, 65], "auto",
                ["input 'x'", "too few for the 3 BYTES elements"]),
            new("binary_data not a boolean", MnistInfer,
                """{"inputs":[{"name":"x","shape":[2,784],"datatype":"FP32","parameters":{"binary_data_size":6272}}],"outputs":[{"name":"probabilities","parameters":{"binary_data":"yes"}}]}""",
                s_twoRows, "auto", ["output 'probabilities'", "'binary_data' must be true or false"]),
            new("binary_data_output not a boolean", MnistInfer,
                """{"inputs":[{"name":"x","shape":[2,784],"datatype":"FP32","parameters":{"binary_data_size":6272}}],"parameters":{"binary_data_output":1}}""",
                s_twoRows, "auto", ["'binary_data_output' must be true or false"]),
            new("raw binary body not a whole number of rows", MnistInfer, null, s_twoRows[..100], "0",
                ["raw binary request", "100 bytes", "3136-byte"]),
            new("raw binary body for a model with two inputs", "/v2/models/multi/infer", null, new byte[24], "0",
                ["raw binary request", "one input", "'a'", "'b'"]),
        };
    }

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task A_malformed_binary_request_is_a_400_naming_the_problem_and_the_server_keeps_serving(Malformed request)
    {
        var json = request.Json is null ? [] : Encoding.UTF8.GetBytes(request.Json);
        var length = request.HeaderLength == "auto" ? json.Length.ToString() : request.HeaderLength;
        var response = await SendAsync(request.Path, json, request.Binary, length);
        TfServingBadInputTests.AssertError(response.Status, response.Json, response.Text, 400, request.Fragments);

        var rows = TestData.MnistRows(1, seed: 1);
        var ok = await PostAsync(MnistInfer, new JsonObject
        {
            ["inputs"] = new JsonArray(BinaryInput("x", [1, 784], "FP32", 784 * 4)),
            ["parameters"] = new JsonObject { ["binary_data_output"] = true },
        }, Floats(rows[0]));
        Assert.True(ok.Status == 200, ok.Text);
        TfServingPredictTests.AssertClose(MlpWeights.Create(42).Evaluate(rows[0]), ReadFloats(ok.Binary["probabilities"]));
    }

    [Fact]
    public async Task Two_header_length_values_are_a_400()
    {
        var json = Encoding.UTF8.GetBytes(MnistHeader(s_twoRows.Length));
        using var message = Message(MnistInfer, json, s_twoRows, null);
        message.Headers.TryAddWithoutValidation(HeaderLength, [json.Length.ToString(), json.Length.ToString()]);
        var response = await ReadAsync(await _server.Client.SendAsync(message));
        // HttpClient joins them into one field, "n, n", as HTTP allows.
        TfServingBadInputTests.AssertError(response.Status, response.Json, response.Text, 400, HeaderLength, $"'{json.Length}, {json.Length}'", "non-negative integer");
    }

    private static JsonObject BinaryInput(string name, long[] shape, string datatype, long size) => new()
    {
        ["name"] = name,
        ["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray()),
        ["datatype"] = datatype,
        ["parameters"] = new JsonObject { ["binary_data_size"] = size },
    };

    /// <summary>Six elements (a [2,3] tensor) of <paramref name="datatype"/> in the extension's byte layout.</summary>
    private static byte[] SampleBytes(string datatype)
    {
        switch (datatype)
        {
            case "FP16":
                var halves = new byte[12];
                Half[] h = [(Half)1.5, (Half)(-0.25), Half.MaxValue, Half.Epsilon, (Half)0, Half.NaN];
                for (var i = 0; i < h.Length; i++)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(halves.AsSpan(i * 2), h[i]);
                }

                return halves;
            case "BOOL":
                return [1, 0, 0, 1, 1, 0];
            case "UINT8":
                return [0, 1, 127, 128, 254, 255];
            case "FP64":
                var doubles = new byte[48];
                double[] d = [0.1, -2.5, 1e300, double.Epsilon, Math.PI, -123456.789];
                for (var i = 0; i < d.Length; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(doubles.AsSpan(i * 8), d[i]);
                }

                return doubles;
            case "INT32":
                var ints = new byte[24];
                int[] n = [int.MinValue, -1, 0, 1, 123456789, int.MaxValue];
                for (var i = 0; i < n.Length; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(ints.AsSpan(i * 4), n[i]);
                }

                return ints;
            case "BYTES":
                var bytes = new List<byte>();
                foreach (var s in new[] { "hello", "", "naïve ☃", "a,b", "quote\"d", "tab\t" })
                {
                    var utf8 = Encoding.UTF8.GetBytes(s);
                    var prefix = new byte[4];
                    BinaryPrimitives.WriteUInt32LittleEndian(prefix, (uint)utf8.Length);
                    bytes.AddRange(prefix);
                    bytes.AddRange(utf8);
                }

                return [.. bytes];
            default:
                throw new ArgumentOutOfRangeException(nameof(datatype), datatype, null);
        }
    }

    private static byte[] Floats(IEnumerable<float> values)
    {
        var list = values.ToArray();
        var bytes = new byte[list.Length * 4];
        for (var i = 0; i < list.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), list[i]);
        }

        return bytes;
    }

    private static float[] ReadFloats(byte[] bytes)
    {
        var values = new float[bytes.Length / 4];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4));
        }

        return values;
    }

    /// <summary>Posts as tritonclient does: the compact JSON part, then the binary bytes; the header length unless told otherwise.</summary>
    private Task<BinaryResponse> PostAsync(string path, JsonObject? header, byte[] binary, int? headerLength = -1)
    {
        var json = header is null ? [] : Encoding.UTF8.GetBytes(header.ToJsonString());
        var length = headerLength switch
        {
            -1 => json.Length.ToString(),
            null => null,
            { } given => given.ToString(),
        };
        return SendAsync(path, json, binary, length);
    }

    private async Task<BinaryResponse> SendAsync(string path, byte[] json, byte[] binary, string? headerLength)
    {
        using var message = Message(path, json, binary, headerLength);
        return await ReadAsync(await _server.Client.SendAsync(message));
    }

    private static HttpRequestMessage Message(string path, byte[] json, byte[] binary, string? headerLength)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent([.. json, .. binary]) };
        message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (headerLength is not null)
        {
            message.Headers.TryAddWithoutValidation(HeaderLength, headerLength);
        }

        return message;
    }

    /// <summary>Reads a response as tritonclient's InferResult does: JSON part by the header length, outputs' bytes in order.</summary>
    private static async Task<BinaryResponse> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.Content.ReadAsByteArrayAsync();
            var hasLength = response.Headers.TryGetValues(HeaderLength, out var values);
            var jsonLength = hasLength ? int.Parse(values!.Single()) : body.Length;
            Assert.InRange(jsonLength, 0, body.Length);
            var text = Encoding.UTF8.GetString(body, 0, jsonLength);
            JsonNode? json = null;
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
            }

            var binary = new Dictionary<string, byte[]>();
            var offset = jsonLength;
            if (hasLength && json?["outputs"] is JsonArray outputs)
            {
                foreach (var output in outputs)
                {
                    if (output!["parameters"]?["binary_data_size"] is { } size)
                    {
                        var n = (int)size.GetValue<long>();
                        binary[output["name"]!.GetValue<string>()] = body[offset..(offset + n)];
                        offset += n;
                    }
                }

                Assert.Equal(body.Length, offset);
            }

            return new BinaryResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString() ?? "", hasLength, json, text, binary);
        }
    }

    private sealed record BinaryResponse(int Status, string ContentType, bool HasHeaderLength, JsonNode? Json, string Text, Dictionary<string, byte[]> Binary);
}
