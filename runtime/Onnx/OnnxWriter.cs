using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace NetCompiler.Onnx;

/// <summary>
/// Writes an ONNX ModelProto (IR version 8, opset 17) in protobuf's wire format, which is small enough to write by
/// hand: varint keys, varints, fixed32 floats and length-prefixed messages. Field numbers are onnx.proto's.
/// </summary>
internal static class OnnxWriter
{
    private const int Opset = 17;
    private const long IrVersion = 8;
    private const int FloatType = 1;

    public static void Write(Stream stream, OnnxGraph graph, IReadOnlyList<Parameter> parameters, string name)
    {
        var model = new ProtoMessage();
        model.Varint(1, IrVersion);
        model.String(2, "NetCompiler");
        model.Message(8, new ProtoMessage().String(1, "").Varint(2, Opset));
        model.Message(7, Graph(graph, parameters, name));
        model.WriteTo(stream);
    }

    private static ProtoMessage Graph(OnnxGraph graph, IReadOnlyList<Parameter> parameters, string name)
    {
        var message = new ProtoMessage();
        int index = 0;
        foreach (OnnxNode node in graph.Nodes)
        {
            message.Message(1, Node(node, index++));
        }

        message.String(2, name);
        var used = new HashSet<string>(graph.Nodes.SelectMany(n => n.Inputs));
        foreach (Parameter parameter in parameters.Where(p => used.Contains(p.Name)))
        {
            message.Message(5, Tensor(parameter.Name, parameter.Shape.Select(d => (long)d).ToArray(), parameter.Value));
        }

        foreach (OnnxConstant constant in graph.Constants)
        {
            message.Message(5, constant.Values is { } values ? Tensor(constant.Name, [values.Length], values) : Tensor(constant.Name, [], [constant.Value]));
        }

        message.Message(11, Value(graph.Input, graph.InputShape));
        message.Message(12, Value(graph.Output, graph.OutputShape));
        return message;
    }

    private static ProtoMessage Node(OnnxNode node, int index)
    {
        var message = new ProtoMessage();
        foreach (string input in node.Inputs)
        {
            message.String(1, input);
        }

        foreach (string output in node.Outputs)
        {
            message.String(2, output);
        }

        message.String(3, node.OpType + "_" + index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        message.String(4, node.OpType);
        foreach (OnnxAttribute attribute in node.Attributes)
        {
            var field = new ProtoMessage().String(1, attribute.Name);
            if (attribute.Ints is { } ints)
            {
                foreach (long value in ints)
                {
                    field.Varint(8, value);
                }

                field.Varint(20, 7); // INTS
            }
            else if (attribute.Int is long value)
            {
                field.Varint(3, value).Varint(20, 2); // INT
            }
            else if (attribute.Text is string text)
            {
                field.String(4, text).Varint(20, 3); // STRING
            }
            else
            {
                field.Fixed32(2, attribute.Float ?? 0f).Varint(20, 1); // FLOAT
            }

            message.Message(5, field);
        }

        return message;
    }

    private static ProtoMessage Tensor(string name, long[] dimensions, float[] values)
    {
        var message = new ProtoMessage();
        foreach (long dimension in dimensions)
        {
            message.Varint(1, dimension);
        }

        message.Varint(2, FloatType);
        message.String(8, name);
        var raw = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
        {
            BitConverter.TryWriteBytes(raw.AsSpan(i * sizeof(float)), values[i]); // little-endian, as ONNX's raw_data
        }

        message.Bytes(9, raw);
        return message;
    }

    /// <summary>A float tensor value: a dynamic batch dimension, then the per-image shape.</summary>
    private static ProtoMessage Value(string name, long[] shape)
    {
        var dims = new ProtoMessage();
        dims.Message(1, new ProtoMessage().String(2, "batch"));
        foreach (long dimension in shape)
        {
            dims.Message(1, new ProtoMessage().Varint(1, dimension));
        }

        var tensor = new ProtoMessage().Varint(1, FloatType).Message(2, dims);
        return new ProtoMessage().String(1, name).Message(2, new ProtoMessage().Message(1, tensor));
    }

    /// <summary>A protobuf message being built: its fields' bytes in order.</summary>
    private sealed class ProtoMessage
    {
        private readonly MemoryStream _bytes = new();

        public ProtoMessage Varint(int field, long value)
        {
            Key(field, 0);
            WriteVarint((ulong)value);
            return this;
        }

        public ProtoMessage Fixed32(int field, float value)
        {
            Key(field, 5);
            Span<byte> bytes = stackalloc byte[4];
            BitConverter.TryWriteBytes(bytes, value);
            _bytes.Write(bytes);
            return this;
        }

        public ProtoMessage String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoMessage Bytes(int field, byte[] value)
        {
            Key(field, 2);
            WriteVarint((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        public ProtoMessage Message(int field, ProtoMessage value) => Bytes(field, value._bytes.ToArray());

        public void WriteTo(Stream stream) => _bytes.WriteTo(stream);

        private void Key(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

        private void WriteVarint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _bytes.WriteByte((byte)value);
        }
    }
}
