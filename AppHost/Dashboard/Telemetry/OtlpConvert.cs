using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using FineTune.AppHost.Dashboard.Otlp.Proto.Common;
using OtlpResource = FineTune.AppHost.Dashboard.Otlp.Proto.Resource.Resource;

namespace FineTune.AppHost.Dashboard.Telemetry;

/// <summary>Turns OTLP wire values (AnyValue, byte ids, unix nanoseconds) into the dashboard's text form.</summary>
internal static class OtlpConvert
{
    public const string UnknownService = "unknown_service";

    public static string? HexId(ByteString id) => id.IsEmpty ? null : Convert.ToHexStringLower(id.Span);

    public static DateTimeOffset Time(ulong unixNano) =>
        unixNano == 0 ? DateTimeOffset.UtcNow : DateTimeOffset.UnixEpoch.AddTicks((long)(unixNano / 100));

    /// <summary>(service.name, service.instance.id) of a resource; the instance falls back to the service name.</summary>
    public static (string Service, string Instance) Identify(OtlpResource? resource)
    {
        string? service = null, instance = null;
        if (resource is not null)
            foreach (var kv in resource.Attributes)
            {
                if (kv.Key == "service.name") service = Text(kv.Value);
                else if (kv.Key == "service.instance.id") instance = Text(kv.Value);
            }
        service = string.IsNullOrEmpty(service) ? UnknownService : service;
        return (service, string.IsNullOrEmpty(instance) ? service : instance);
    }

    public static IReadOnlyList<Attr> Attributes(RepeatedField<KeyValue> attributes, int max)
    {
        var list = new List<Attr>(Math.Min(attributes.Count, max));
        foreach (var kv in attributes)
        {
            if (list.Count == max) break;
            list.Add(new Attr(kv.Key, Text(kv.Value)));
        }
        return list;
    }

    public static string Text(AnyValue? value)
    {
        if (value is null) return "";
        return value.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => value.StringValue,
            AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
            AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
            AnyValue.ValueOneofCase.ArrayValue => "[" + string.Join(", ", value.ArrayValue.Values.Select(Text)) + "]",
            AnyValue.ValueOneofCase.KvlistValue => KvList(value.KvlistValue),
            _ => "",
        };
    }

    private static string KvList(KeyValueList list)
    {
        var sb = new StringBuilder("{");
        foreach (var kv in list.Values)
        {
            if (sb.Length > 1) sb.Append(", ");
            sb.Append(kv.Key).Append(": ").Append(Text(kv.Value));
        }
        return sb.Append('}').ToString();
    }

    /// <summary>Severity text from OTLP's severity number when the sender gave none (1-4 Trace … 21-24 Critical).</summary>
    public static string Level(int severityNumber, string severityText) => severityNumber switch
    {
        >= 21 => "Critical",
        >= 17 => "Error",
        >= 13 => "Warning",
        >= 9 => "Information",
        >= 5 => "Debug",
        >= 1 => "Trace",
        _ => string.IsNullOrEmpty(severityText) ? "Information" : severityText,
    };
}
