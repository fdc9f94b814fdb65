namespace FineTune.Data.Shards;

/// <summary>
/// Token shard file layout, version 1 (written by hand for this repository; every integer little-endian):
/// <code>
/// offset size  field
/// 0      8     magic "FTSHARD\0"
/// 8      4     version (u32) = 1
/// 12     4     flags (u32): bit 0 = packed (no longer written: the trainer packs; see docs/training.md)
/// 16     32    tokenizer hash (SHA-256 of tokenizer.json + tokenizer_config.json)
/// 48     8     record count N (u64)
/// 56     8     token count T (u64)
/// 64     8     pack count P (u64; 0 when not packed, which every current writer is)
/// 72     4     max length (u32): the sequence length records were truncated/dropped to
/// 76     4     reserved (0)
/// 80     4·T   tokens: i32[T], every record's token ids back to back
/// ..     T     mask: u8[T], 1 = the token is a training target (assistant turn incl. its end-of-turn token), else 0;
///              then zero bytes up to the next multiple of 8
/// ..     8·(N+1)  offsets: u64[N+1], record i is tokens[offsets[i] .. offsets[i+1]); offsets[0] = 0, offsets[N] = T
/// ..     8·(P+1)  packs (only when P > 0): u64[P+1], pack j holds records packs[j] .. packs[j+1]) and fits max length
/// </code>
/// The mask is aligned with the inputs (mask[t] says whether token t is a target); a trainer predicting token t+1 from
/// position t uses mask[t+1] as the loss weight of position t. The trainer packs records into rows (best fit), giving each
/// record its own segment id.
/// </summary>
public static class ShardFormat
{
    public static ReadOnlySpan<byte> Magic => "FTSHARD\0"u8;
    public const uint Version = 1;
    public const int HeaderBytes = 80;

    public static long MaskOffset(long tokens) => HeaderBytes + 4 * tokens;
    public static long OffsetsOffset(long tokens) => Align8(MaskOffset(tokens) + tokens);
    public static long PacksOffset(long tokens, long records) => OffsetsOffset(tokens) + 8 * (records + 1);
    public static long FileLength(long tokens, long records, long packs) =>
        PacksOffset(tokens, records) + (packs > 0 ? 8 * (packs + 1) : 0);

    public static long Align8(long value) => (value + 7) & ~7L;
}
