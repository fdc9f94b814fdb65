// MSBuild inline task (written by hand; compiled by RoslynCodeTaskFactory against netstandard2.0): marks one ELF version requirement weak. See TorchSharpNativeFix.targets.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public class PatchTorchSharpNativeVersionNeeds : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const uint ShtGnuVersym = 0x6fffffff;
    private const ushort VerFlgWeak = 0x2;
    private const ushort VerNdxGlobal = 1;

    [Required] public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string MissingVersion { get; set; } = "";

    public override bool Execute()
    {
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var bytes = File.ReadAllBytes(path);
                var changed = Patch(bytes, MissingVersion, out var symbols);
                if (!changed)
                {
                    Log.LogMessage(MessageImportance.Low, "{0}: already patched or no {1} requirement", path, MissingVersion);
                    continue;
                }
                var temp = path + ".patching";
                File.WriteAllBytes(temp, bytes);
                File.Delete(path);              // unlink: the output copy may be a hard link into the package cache
                File.Move(temp, path);
                Log.LogMessage(MessageImportance.High, "Patched {0}: {1} requirement made weak ({2} symbol(s) unversioned)", path, MissingVersion, symbols);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError("TorchSharp native fix failed for {0}: {1}", path, ex.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    private static bool Patch(byte[] b, string version, out int symbolsCleared)
    {
        symbolsCleared = 0;
        if (b.Length < 64 || b[0] != 0x7f || b[1] != (byte)'E' || b[2] != (byte)'L' || b[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (b[4] != 2 || b[5] != 1)
            throw new InvalidDataException("only 64-bit little-endian ELF is supported");

        var shoff = (long)BitConverter.ToUInt64(b, 0x28);
        int shentsize = BitConverter.ToUInt16(b, 0x3A), shnum = BitConverter.ToUInt16(b, 0x3C);
        long verneedOff = -1, verneedCount = 0, versymOff = -1, versymSize = 0, strtabOff = -1;
        for (var i = 0; i < shnum; i++)
        {
            var o = shoff + (long)i * shentsize;
            var type = BitConverter.ToUInt32(b, (int)o + 4);
            var off = (long)BitConverter.ToUInt64(b, (int)o + 24);
            var size = (long)BitConverter.ToUInt64(b, (int)o + 32);
            var link = BitConverter.ToUInt32(b, (int)o + 40);
            var info = BitConverter.ToUInt32(b, (int)o + 44);
            if (type == ShtGnuVerneed)
            {
                verneedOff = off;
                verneedCount = info;
                var linked = shoff + (long)link * shentsize;
                strtabOff = (long)BitConverter.ToUInt64(b, (int)linked + 24);
            }
            else if (type == ShtGnuVersym)
            {
                versymOff = off;
                versymSize = size;
            }
        }
        if (verneedOff < 0 || versymOff < 0) return false;

        var changed = false;
        var target = -1;
        var need = verneedOff;
        for (var n = 0; n < verneedCount; n++)
        {
            int cnt = BitConverter.ToUInt16(b, (int)need + 2);
            var aux = need + BitConverter.ToUInt32(b, (int)need + 8);
            for (var a = 0; a < cnt; a++)
            {
                var flags = BitConverter.ToUInt16(b, (int)aux + 4);
                var other = BitConverter.ToUInt16(b, (int)aux + 6);
                var name = ReadCString(b, strtabOff + BitConverter.ToUInt32(b, (int)aux + 8));
                if (name == version)
                {
                    target = other;
                    if ((flags & VerFlgWeak) == 0)
                    {
                        WriteUInt16(b, (int)aux + 4, (ushort)(flags | VerFlgWeak));
                        changed = true;
                    }
                }
                var next = BitConverter.ToUInt32(b, (int)aux + 12);
                if (next == 0) break;
                aux += next;
            }
            var nextNeed = BitConverter.ToUInt32(b, (int)need + 12);
            if (nextNeed == 0) break;
            need += nextNeed;
        }
        if (target < 0) return changed;

        for (long i = 0; i < versymSize / 2; i++)
        {
            var at = (int)(versymOff + 2 * i);
            var v = BitConverter.ToUInt16(b, at);
            if ((v & 0x7fff) == target)
            {
                WriteUInt16(b, at, VerNdxGlobal);
                symbolsCleared++;
                changed = true;
            }
        }
        return changed;
    }

    private static void WriteUInt16(byte[] b, int at, ushort value)
    {
        b[at] = (byte)value;
        b[at + 1] = (byte)(value >> 8);
    }

    private static string ReadCString(byte[] b, long offset)
    {
        var end = Array.IndexOf(b, (byte)0, (int)offset);
        return Encoding.ASCII.GetString(b, (int)offset, end - (int)offset);
    }
}
