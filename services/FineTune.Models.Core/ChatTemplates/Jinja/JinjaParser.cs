using System.Globalization;

namespace FineTune.Models.Core.ChatTemplates.Jinja;

/// <summary>Tokens → syntax tree, with the operator precedence of @huggingface/jinja.</summary>
internal sealed class JinjaParser
{
    private readonly List<Token> _tokens;
    private int _current;

    private JinjaParser(List<Token> tokens) => _tokens = tokens;

    public static ProgramNode Parse(List<Token> tokens)
    {
        var parser = new JinjaParser(tokens);
        var body = new List<Node>();
        while (parser._current < tokens.Count) body.Add(parser.ParseAny());
        return new ProgramNode(body);
    }

    private Token Peek(int offset = 0) => _current + offset < _tokens.Count
        ? _tokens[_current + offset]
        : throw new JinjaException("Unexpected end of template");

    private Token Expect(TokenType type, string error)
    {
        var token = Peek();
        _current++;
        if (token.Type != type) throw new JinjaException($"Parser Error: {error}. {token.Type} !== {type}.");
        return token;
    }

    private bool Is(params TokenType[] types)
    {
        if (_current + types.Length > _tokens.Count) return false;
        for (var i = 0; i < types.Length; i++)
            if (_tokens[_current + i].Type != types[i]) return false;
        return true;
    }

    private bool IsStatement(params string[] names) =>
        _current + 1 < _tokens.Count && _tokens[_current].Type == TokenType.OpenStatement
        && _tokens[_current + 1].Type == TokenType.Identifier && names.Contains(_tokens[_current + 1].Value);

    private bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count) return false;
        for (var i = 0; i < names.Length; i++)
            if (_tokens[_current + i].Type != TokenType.Identifier || _tokens[_current + i].Value != names[i]) return false;
        return true;
    }

    private void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name)) throw new JinjaException($"Expected {name}");
        _current++;
    }

    private Node ParseAny()
    {
        var token = Peek();
        switch (token.Type)
        {
            case TokenType.Comment:
                _current++;
                return new CommentNode(token.Value);
            case TokenType.Text:
                _current++;
                return new StringLiteralNode(token.Value);
            case TokenType.OpenStatement:
                return ParseStatement();
            case TokenType.OpenExpression:
                _current++;
                var result = ParseExpression();
                Expect(TokenType.CloseExpression, "Expected closing expression token");
                return result;
            default:
                throw new JinjaException($"Unexpected token type: {token.Type}");
        }
    }

    private List<Node> ParseUntil(params string[] names)
    {
        var body = new List<Node>();
        while (!IsStatement(names))
        {
            if (_current >= _tokens.Count) throw new JinjaException($"Unexpected end of template: expected {{% {string.Join(" or ", names)} %}}");
            body.Add(ParseAny());
        }
        return body;
    }

    private void ExpectEnd(string name)
    {
        Expect(TokenType.OpenStatement, "Expected {% token");
        ExpectIdentifier(name);
        Expect(TokenType.CloseStatement, "Expected %} token");
    }

    private Node ParseStatement()
    {
        Expect(TokenType.OpenStatement, "Expected opening statement token");
        if (Peek().Type != TokenType.Identifier) throw new JinjaException($"Unknown statement, got {Peek().Type}");
        var name = Peek().Value;
        _current++;
        switch (name)
        {
            case "set":
                return ParseSet();
            case "if":
            {
                var result = ParseIf();
                ExpectEnd("endif");
                return result;
            }
            case "for":
            {
                var result = ParseFor();
                ExpectEnd("endfor");
                return result;
            }
            case "macro":
            {
                var macroName = ParsePrimary() as IdentifierNode ?? throw new JinjaException("Expected identifier following macro statement");
                var args = ParseArgs();
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = ParseUntil("endmacro");
                ExpectEnd("endmacro");
                return new MacroNode(macroName, args, body);
            }
            case "call":
            {
                var callerArgs = Is(TokenType.OpenParen) ? ParseArgs() : [];
                var callee = ParsePrimary() as IdentifierNode ?? throw new JinjaException("Expected identifier following call statement");
                var callArgs = ParseArgs();
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = ParseUntil("endcall");
                ExpectEnd("endcall");
                return new CallBlockNode(new CallNode(callee, callArgs), callerArgs, body);
            }
            case "break":
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                return new BreakNode();
            case "continue":
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                return new ContinueNode();
            case "filter":
            {
                var filter = ParsePrimary();
                if (filter is IdentifierNode && Is(TokenType.OpenParen)) filter = ParseCall(filter);
                Expect(TokenType.CloseStatement, "Expected closing statement token");
                var body = ParseUntil("endfilter");
                ExpectEnd("endfilter");
                return new FilterStatementNode(filter, body);
            }
            default:
                throw new JinjaException($"Unknown statement type: {name}");
        }
    }

    private Node ParseSet()
    {
        var left = ParseExpressionSequence();
        Node? value = null;
        var body = new List<Node>();
        if (Is(TokenType.Equals))
        {
            _current++;
            value = ParseExpressionSequence();
        }
        else
        {
            Expect(TokenType.CloseStatement, "Expected %} token");
            body = ParseUntil("endset");
            Expect(TokenType.OpenStatement, "Expected {% token");
            ExpectIdentifier("endset");
        }
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        return new SetNode(left, value, body);
    }

    private IfNode ParseIf()
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        var body = ParseUntil("elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            _current += 2;
            alternate.Add(ParseIf());
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected closing statement token");
            alternate = ParseUntil("endif");
        }
        return new IfNode(test, body, alternate);
    }

    private ForNode ParseFor()
    {
        var loopVar = ParseExpressionSequence(primary: true);
        if (loopVar is not (IdentifierNode or TupleLiteralNode))
            throw new JinjaException($"Expected identifier/tuple for the loop variable, got {loopVar.GetType().Name} instead");
        if (!IsIdentifier("in")) throw new JinjaException("Expected `in` keyword following loop variable");
        _current++;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "Expected closing statement token");
        var body = ParseUntil("endfor", "else");
        var alternative = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "Expected closing statement token");
            alternative = ParseUntil("endfor");
        }
        return new ForNode(loopVar, iterable, body, alternative);
    }

    private Node ParseExpressionSequence(bool primary = false)
    {
        var expressions = new List<Node> { primary ? ParsePrimary() : ParseExpression() };
        var isTuple = Is(TokenType.Comma);
        while (isTuple)
        {
            _current++;
            expressions.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(TokenType.Comma)) break;
        }
        return isTuple ? new TupleLiteralNode(expressions) : expressions[0];
    }

    private Node ParseExpression() => ParseIfExpression();

    private Node ParseIfExpression()
    {
        var a = ParseOr();
        if (!IsIdentifier("if")) return a;
        _current++;
        var test = ParseOr();
        if (IsIdentifier("else"))
        {
            _current++;
            return new TernaryNode(test, a, ParseIfExpression());
        }
        return new SelectNode(a, test);
    }

    private Node ParseOr()
    {
        var left = ParseAnd();
        while (IsIdentifier("or"))
        {
            _current++;
            left = new BinaryNode("or", left, ParseAnd());
        }
        return left;
    }

    private Node ParseAnd()
    {
        var left = ParseNot();
        while (IsIdentifier("and"))
        {
            _current++;
            left = new BinaryNode("and", left, ParseNot());
        }
        return left;
    }

    private Node ParseNot()
    {
        Node? right = null;
        while (IsIdentifier("not"))
        {
            _current++;
            right = new UnaryNode("not", ParseNot());
        }
        return right ?? ParseComparison();
    }

    private Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            if (IsIdentifier("not", "in")) { op = "not in"; _current += 2; }
            else if (IsIdentifier("in")) { op = "in"; _current++; }
            else if (Is(TokenType.ComparisonBinaryOperator)) { op = Peek().Value; _current++; }
            else break;
            left = new BinaryNode(op, left, ParseAdditive());
        }
        return left;
    }

    private Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            var op = Peek().Value;
            _current++;
            left = new BinaryNode(op, left, ParseMultiplicative());
        }
        return left;
    }

    private Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            var op = Peek().Value;
            _current++;
            left = new BinaryNode(op, left, ParsePower());
        }
        return left;
    }

    private Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            _current++;
            left = new BinaryNode("**", left, ParseTest());
        }
        return left;
    }

    private Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            _current++;
            var negate = IsIdentifier("not");
            if (negate) _current++;
            var test = ParsePrimary() as IdentifierNode ?? throw new JinjaException("Expected identifier for the test");
            operand = new TestNode(operand, negate, test.Name);
        }
        return operand;
    }

    private Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            _current++;
            Node filter = ParsePrimary() as IdentifierNode ?? throw new JinjaException("Expected identifier for the filter");
            if (Is(TokenType.OpenParen)) filter = ParseCall(filter);
            operand = new FilterNode(operand, filter);
        }
        return operand;
    }

    private Node ParseUnarySign()
    {
        var token = Peek();
        if (token.Type is TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator && token.Value is "-" or "+")
        {
            _current++;
            return new UnaryNode(token.Value, ParseUnarySign());
        }
        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCall(member) : member;
    }

    private Node ParseCall(Node callee)
    {
        Node expression = new CallNode(callee, ParseArgs());
        expression = ParseMember(expression);
        if (Is(TokenType.OpenParen)) expression = ParseCall(expression);
        return expression;
    }

    private List<Node> ParseArgs()
    {
        Expect(TokenType.OpenParen, "Expected opening parenthesis for arguments list");
        var args = new List<Node>();
        while (!Is(TokenType.CloseParen))
        {
            if (Is(TokenType.ExponentiationBinaryOperator))
            {
                _current++;
                args.Add(new KeywordSpreadNode(ParseExpression()));
                if (Is(TokenType.Comma)) _current++;
                break;
            }
            Node argument;
            if (Is(TokenType.MultiplicativeBinaryOperator) && Peek().Value == "*")
            {
                _current++;
                argument = new SpreadNode(ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    _current++;
                    var key = argument as IdentifierNode ?? throw new JinjaException("Expected identifier for keyword argument");
                    argument = new KeywordArgumentNode(key, ParseExpression());
                }
            }
            args.Add(argument);
            if (Is(TokenType.Comma)) _current++;
        }
        Expect(TokenType.CloseParen, "Expected closing parenthesis for arguments list");
        return args;
    }

    private Node ParseMember(Node obj)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var computed = Peek().Type == TokenType.OpenSquareBracket;
            _current++;
            Node property;
            if (computed)
            {
                property = ParseSubscript();
                Expect(TokenType.CloseSquareBracket, "Expected closing square bracket");
            }
            else
            {
                property = ParsePrimary();
                if (property is not (IdentifierNode or IntegerLiteralNode))
                    throw new JinjaException("Expected identifier or integer following dot operator");
            }
            obj = new MemberNode(obj, property, computed);
        }
        return obj;
    }

    private Node ParseSubscript()
    {
        var slices = new List<Node?>();
        var isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (Is(TokenType.Colon))
            {
                slices.Add(null);
                _current++;
                isSlice = true;
            }
            else
            {
                slices.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    _current++;
                    isSlice = true;
                }
            }
        }
        if (slices.Count == 0) throw new JinjaException("Expected at least one argument for member/slice expression");
        if (!isSlice) return slices[0]!;
        if (slices.Count > 3) throw new JinjaException("Expected 0-3 arguments for slice expression");
        return new SliceNode(slices.ElementAtOrDefault(0), slices.ElementAtOrDefault(1), slices.ElementAtOrDefault(2));
    }

    private Node ParsePrimary()
    {
        var token = Peek();
        _current++;
        switch (token.Type)
        {
            case TokenType.NumericLiteral:
                return token.Value.Contains('.')
                    ? new FloatLiteralNode(double.Parse(token.Value, CultureInfo.InvariantCulture))
                    : new IntegerLiteralNode(long.Parse(token.Value, CultureInfo.InvariantCulture));
            case TokenType.StringLiteral:
            {
                var value = token.Value;
                while (Is(TokenType.StringLiteral)) value += _tokens[_current++].Value;
                return new StringLiteralNode(value);
            }
            case TokenType.Identifier:
                return new IdentifierNode(token.Value);
            case TokenType.OpenParen:
            {
                var expression = ParseExpressionSequence();
                Expect(TokenType.CloseParen, "Expected closing parenthesis");
                return expression;
            }
            case TokenType.OpenSquareBracket:
            {
                var values = new List<Node>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    values.Add(ParseExpression());
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ArrayLiteralNode(values);
            }
            case TokenType.OpenCurlyBracket:
            {
                var entries = new List<(Node, Node)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    var key = ParseExpression();
                    Expect(TokenType.Colon, "Expected colon between key and value in object literal");
                    entries.Add((key, ParseExpression()));
                    if (Is(TokenType.Comma)) _current++;
                }
                _current++;
                return new ObjectLiteralNode(entries);
            }
            default:
                throw new JinjaException($"Unexpected token: {token.Type}");
        }
    }
}
