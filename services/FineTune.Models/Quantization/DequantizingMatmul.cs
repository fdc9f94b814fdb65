// Written by hand: bitsandbytes' MatMul4Bit idea (dequantize again in backward instead of saving the weight), built on
// TorchSharp's custom autograd function (torch.autograd.SingleTensorFunction); no .NET library offers it.
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace FineTune.Models.Quantization;

/// <summary>
/// y = x·dequantize(W)ᵀ + b for a frozen quantized weight, with a backward pass that dequantizes W again to compute
/// ∂L/∂x = ∂L/∂y·dequantize(W). Autograd then keeps nothing of the layer for backward: a plain <c>linear</c> over the
/// dequantized weight would keep every layer's full-precision weight alive until backward, undoing what quantization saved.
/// </summary>
internal static class DequantizingMatmul
{
    public static Tensor Apply(QuantizedLinear layer, Tensor x, ScalarType dtype)
    {
        if (!(x.requires_grad && is_grad_enabled())) return Plain(layer, x, dtype);
        return Function.apply(layer, x, dtype);
    }

    private static Tensor Plain(QuantizedLinear layer, Tensor x, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var weight = layer.DequantizeForMatmul(dtype);   // may be a rented scratch buffer: used here, kept by nothing
        using var bias = layer.Bias(dtype);
        return nn.functional.linear(x, weight.Weight, bias).MoveToOuterDisposeScope();
    }

    /// <summary>vars = [layer, x, compute dtype]; saved for backward: nothing but the layer reference.</summary>
    private sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => "DequantizingMatmulBackward";

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var layer = (QuantizedLinear)vars[0];
            var dtype = (ScalarType)vars[2];
            ctx.save_data(nameof(QuantizedLinear), layer);
            ctx.save_data(nameof(ScalarType), dtype);
            using var _ = no_grad();   // explicit: autograd must not keep the (scratch) weight for a backward of its own
            return Plain(layer, (Tensor)vars[1], dtype);
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor gradOutput)
        {
            var layer = (QuantizedLinear)ctx.get_data(nameof(QuantizedLinear));
            var dtype = (ScalarType)ctx.get_data(nameof(ScalarType));
            Tensor gradInput;
            using (var scope = NewDisposeScope())
            using (var weight = layer.DequantizeForMatmul(dtype))
                gradInput = gradOutput.to(dtype).matmul(weight.Weight).MoveToOuterDisposeScope();   // (..., out)·(out, in) → (..., in)
            return [null!, gradInput, null!];
        }
    }
}
