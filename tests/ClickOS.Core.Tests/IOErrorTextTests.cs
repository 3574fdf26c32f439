using ClickOS.Core;

namespace ClickOS.Core.Tests;

/// <summary>File errors read like Click's (strerror), not like .NET resource keys.</summary>
public sealed class IOErrorTextTests
{
    [Fact]
    public void MissingFilesAndDirectoriesArePlainMessages()
    {
        var missingDir = Assert.ThrowsAny<IOException>(() => File.ReadAllText("/nonexistent-clickos-dir/x"));
        Assert.Equal("No such file or directory", IOErrorText.Of(missingDir));
        var missingFile = Assert.ThrowsAny<IOException>(() => File.ReadAllText(Path.Combine(Path.GetTempPath(), "clickos-no-such-" + Guid.NewGuid().ToString("N"))));
        Assert.Equal("No such file or directory", IOErrorText.Of(missingFile));
        Assert.Equal("Permission denied", IOErrorText.Of(new UnauthorizedAccessException("x")));
        var dir = Assert.ThrowsAny<Exception>(() => File.ReadAllText(Path.GetTempPath()));
        Assert.Contains(IOErrorText.Of(dir), new[] { "Is a directory", "Permission denied" });
    }
}
