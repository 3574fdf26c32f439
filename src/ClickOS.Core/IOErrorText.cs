namespace ClickOS.Core;

/// <summary>
/// Click-style text for file errors ("No such file or directory"). The NativeAOT build strips
/// .NET's message resources (UseSystemResourceKeys), so an exception's Message is a resource
/// key there; users get these strerror-like texts instead.
/// </summary>
public static class IOErrorText
{
    public static string Of(Exception e) => e switch
    {
        FileNotFoundException or DirectoryNotFoundException => "No such file or directory",
        UnauthorizedAccessException => "Permission denied",
        PathTooLongException => "File name too long",
        IOException io when (io.HResult & 0xFFFF) == 28 => "No space left on device",
        IOException io when (io.HResult & 0xFFFF) == 21 => "Is a directory",
        ArgumentException => "Invalid file name",
        _ => e.Message,
    };
}
