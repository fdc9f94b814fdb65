using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace FineTune.Data;

/// <summary>
/// The canonical serialization of a <see cref="Conversation"/>: one compact JSON object per line,
/// <c>{"messages":[{"role":…,"content":…}]}</c>, properties in that order, no whitespace, non-ASCII text kept as UTF-8
/// (only what JSON requires is escaped). The dataset hash is the SHA-256 of these lines joined by '\n' (each line ends with '\n').
/// A JSON value used as text (an <c>output</c> object, seed 003) is rewritten the same way: compact, members in their
/// original order, so the model learns to emit exactly <c>{"name":"Laptop","price":"$999",…}</c>.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    public static byte[] Serialize(Conversation conversation)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(conversation, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Conversation conversation, IBufferWriter<byte> output)
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        writer.WriteStartObject();
        writer.WriteStartArray("messages");
        foreach (var turn in conversation.Messages)
        {
            writer.WriteStartObject();
            writer.WriteString("role", turn.Role);
            writer.WriteString("content", turn.Content);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    /// <summary>A JSON value (object, array, number…) as compact text with the canonical escaping.</summary>
    public static string ValueAsText(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
            value.WriteTo(writer);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Parses one canonical line (as written by <see cref="Serialize"/>).</summary>
    public static Conversation Parse(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line);
        using var doc = JsonDocument.ParseValue(ref reader);
        var messages = doc.RootElement.GetProperty("messages");
        var turns = new List<ChatTurn>(messages.GetArrayLength());
        foreach (var m in messages.EnumerateArray())
            turns.Add(new ChatTurn(m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!));
        return new Conversation(turns);
    }
}
