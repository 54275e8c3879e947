using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ServingStack.Tests.ServiceDefaults;

/// <summary>How a service that cannot start for its configuration reports it: every problem, one line each, an exit code.</summary>
public sealed class StartupFailuresTests
{
    [Fact]
    public async Task Every_failing_options_type_is_reported_together_with_the_services_exit_code()
    {
        using var errors = new StringWriter();
        var code = await StartupFailures.RunOrExitAsync("demo", () => App(builder =>
        {
            builder.Services.AddOptions<First>().Validate(_ => false, "first is wrong").ValidateOnStart();
            builder.Services.AddOptions<Second>().Validate(_ => false, "second is wrong").ValidateOnStart();
        }), exitCode: 7, errors: errors);

        Assert.Equal(7, code);
        Assert.Equal($"demo: invalid configuration:{Environment.NewLine}  first is wrong{Environment.NewLine}  second is wrong{Environment.NewLine}", errors.ToString());
    }

    [Fact]
    public async Task A_refused_command_line_is_printed_with_its_usage_and_a_value_of_the_wrong_type_names_its_key()
    {
        using var errors = new StringWriter();
        var code = await StartupFailures.RunOrExitAsync("demo", () => throw new ConfigurationProblemsException(["unknown flag --x", "unknown flag --y"], "usage: demo --flag=value\n"), errors: errors);
        Assert.Equal(StartupFailures.ConfigurationErrorExitCode, code);
        Assert.Equal($"demo: invalid configuration:{Environment.NewLine}  unknown flag --x{Environment.NewLine}  unknown flag --y{Environment.NewLine}{Environment.NewLine}usage: demo --flag=value\n", errors.ToString());

        var binder = Assert.Throws<InvalidOperationException>(() =>
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Demo:Port"] = "eighty" }).Build().GetSection("Demo").Get<Third>());
        Assert.Equal([binder.Message], StartupFailures.ConfigurationProblems(binder));
        Assert.Contains("'Demo:Port'", binder.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_taken_port_is_a_configuration_problem_but_a_bug_is_not()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var errors = new StringWriter();
        var code = await StartupFailures.RunOrExitAsync("demo", () => App(builder => builder.WebHost.UseUrls($"http://127.0.0.1:{port}")), errors: errors);
        Assert.Equal(1, code);
        Assert.Contains($"Failed to bind to address http://127.0.0.1:{port}", errors.ToString(), StringComparison.Ordinal);

        // Anything else keeps its exception (and stack trace): it is a bug, not a setting to fix.
        Assert.Null(StartupFailures.ConfigurationProblems(new NullReferenceException()));
        Assert.Null(StartupFailures.ConfigurationProblems(new AggregateException(new OptionsValidationException("x", typeof(First), ["bad"]), new InvalidCastException())));
        await Assert.ThrowsAsync<InvalidCastException>(() => StartupFailures.RunOrExitAsync("demo", () => throw new InvalidCastException(), errors: errors));
    }

    private static WebApplication App(Action<WebApplicationBuilder> configure)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        configure(builder);
        return builder.Build();
    }

    private sealed class First;

    private sealed class Second;

    private sealed class Third
    {
        public int Port { get; set; }
    }
}
