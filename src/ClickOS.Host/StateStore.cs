using System.Text.Json;

namespace ClickOS.Host;

/// <summary>
/// The host's desired state on disk: instances/NAME/spec.json per instance, each replaced
/// atomically (write a temporary file, fsync it, rename it over the old one, fsync the
/// directory), so a crash or kill -9 at any moment leaves either the old spec or the new one,
/// never a torn file.
/// </summary>
public sealed partial class StateStore(string directory)
{
    private readonly string _instances = Path.Combine(directory, "instances");

    public string SpecPath(string name) => Path.Combine(_instances, name, "spec.json");

    /// <summary>Records one instance's spec (a small file per instance, so thousands of instances cost nothing per change).</summary>
    public void Save(InstanceSpec spec)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(SpecPath(spec.Name))!);
        WriteAtomically(SpecPath(spec.Name), w => spec.Write(w));
    }

    /// <summary>Forgets an instance: its spec goes first, so a crash mid-way never resurrects it.</summary>
    public void Delete(string name)
    {
        string path = SpecPath(name);
        if (!File.Exists(path)) return;
        File.Delete(path);
        FsyncDirectory(Path.GetDirectoryName(path)!);
    }

    /// <summary>The saved specs; an unreadable spec is an error, not a missing instance.</summary>
    public List<InstanceSpec> Load()
    {
        var list = new List<InstanceSpec>();
        if (!Directory.Exists(_instances)) return list;
        foreach (var dir in Directory.GetDirectories(_instances).Order(StringComparer.Ordinal))
        {
            string path = Path.Combine(dir, "spec.json");
            if (!File.Exists(path)) continue;
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var errors = new List<string>();
            var spec = InstanceSpec.Read(doc.RootElement, errors);
            if (errors.Count > 0) throw new InvalidDataException($"{path}: {string.Join("; ", errors)}");
            list.Add(spec);
        }
        return list;
    }

    public static void WriteAtomically(string path, Action<Utf8JsonWriter> write)
    {
        string tmp = path + ".tmp";
        using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            using (var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true }))
                write(w);
            fs.Flush(flushToDisk: true);
        }
        File.Move(tmp, path, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    private static void FsyncDirectory(string dir)
    {
        int fd = ClickOS.Runtime.Posix.open(dir, 0x10000 /* O_RDONLY|O_DIRECTORY */);
        if (fd < 0) return;
        Fsync(fd);
        ClickOS.Runtime.Posix.close(fd);
    }

    [System.Runtime.InteropServices.LibraryImport("libc")]
    private static partial int fsync(int fd);
    private static void Fsync(int fd) => fsync(fd);
}
