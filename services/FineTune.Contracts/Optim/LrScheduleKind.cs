namespace FineTune.Contracts.Optim;

/// <summary>Learning-rate schedule after warmup (the names of HF's lr_scheduler_type).</summary>
public enum LrScheduleKind
{
    Constant,
    Linear,
    Cosine,
}
