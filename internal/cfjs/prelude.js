// The part of the cloudfront-js-2.0 runtime that this package writes in
// JavaScript: the refusal of eval and the Function constructors, and
// Buffer (the subset below), TextEncoder, TextDecoder and InternalError.
// It evaluates to a function that receives the Go side (h.refuse and the
// codecs h.encode, h.decode, h.utf8) and installs the globals, so the Go
// side stays out of the function's reach. Buffer and the text classes are
// built on first use: most functions never touch them.
(function (h) {
  'use strict';

  // Dynamic code evaluation is not supported: eval and every Function
  // constructor, reached by name or through a function's constructor,
  // throw.
  var functionProto = Object.getPrototypeOf(function () {});
  var asyncProto = Object.getPrototypeOf(async function () {});
  function Function() {
    h.refuse('the Function constructor');
  }
  Object.defineProperty(Function, 'prototype', { value: functionProto });
  Object.defineProperty(functionProto, 'constructor', { value: Function, writable: true, configurable: true });
  Object.defineProperty(asyncProto, 'constructor', {
    value: function AsyncFunction() {
      h.refuse('the AsyncFunction constructor');
    },
    writable: true,
    configurable: true
  });
  globalThis.Function = Function;
  globalThis.eval = function () {
    h.refuse('eval');
  };

  class InternalError extends Error {
    constructor(message) {
      super(message);
      this.name = 'InternalError';
    }
  }
  globalThis.InternalError = InternalError;

  function lazy(name, make) {
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get: function () {
        var v = make();
        Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true });
        return v;
      },
      set: function (v) {
        Object.defineProperty(globalThis, name, { value: v, writable: true, configurable: true });
      }
    });
  }
  lazy('Buffer', makeBuffer);
  lazy('TextEncoder', makeTextEncoder);
  lazy('TextDecoder', makeTextDecoder);

  function makeBuffer() {

    function encodingOf(e) {
      if (e === undefined || e === null) return 'utf8';
      var s = String(e).toLowerCase();
      if (s === 'utf8' || s === 'utf-8') return 'utf8';
      if (s === 'hex' || s === 'base64' || s === 'base64url') return s;
      throw new TypeError('Unknown encoding: ' + e);
    }

    function notModelled(name) {
      return function () {
        throw new Error(name + ' is not modelled by the local edge');
      };
    }

    class Buffer extends Uint8Array {
      static from(value, encodingOrOffset, length) {
        if (typeof value === 'string') {
          return new Buffer(h.encode(value, encodingOf(encodingOrOffset)));
        }
        if (value instanceof ArrayBuffer) {
          var off = encodingOrOffset === undefined ? 0 : encodingOrOffset;
          var n = length === undefined ? value.byteLength - off : length;
          return new Buffer(value, off, n);
        }
        if (ArrayBuffer.isView(value)) {
          var copy = new Buffer(value.byteLength);
          copy.set(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
          return copy;
        }
        if (Array.isArray(value)) {
          var b = new Buffer(value.length);
          for (var i = 0; i < value.length; i++) b[i] = value[i] & 255;
          return b;
        }
        if (value !== null && typeof value === 'object' && typeof value.valueOf === 'function') {
          var v = value.valueOf();
          if (v !== value) return Buffer.from(v, encodingOrOffset, length);
        }
        throw new TypeError('The first argument must be a string, Buffer, ArrayBuffer or Array');
      }

      static alloc(size, fill, encoding) {
        var b = new Buffer(size);
        if (fill !== undefined && fill !== 0) b.fill(fill, 0, size, encoding);
        return b;
      }

      static allocUnsafe(size) {
        return new Buffer(size);
      }

      static byteLength(value, encoding) {
        if (typeof value === 'string') return h.encode(value, encodingOf(encoding)).byteLength;
        return value.byteLength;
      }

      static compare(a, b) {
        return a.compare(b);
      }

      static concat(list, totalLength) {
        var total = 0;
        for (var i = 0; i < list.length; i++) total += list[i].length;
        if (totalLength !== undefined) total = totalLength;
        var out = Buffer.alloc(total);
        var pos = 0;
        for (var j = 0; j < list.length && pos < total; j++) {
          var part = list[j];
          var n = Math.min(part.length, total - pos);
          out.set(new Uint8Array(part.buffer, part.byteOffset, n), pos);
          pos += n;
        }
        return out;
      }

      static isBuffer(obj) {
        return obj instanceof Buffer;
      }

      static isEncoding(encoding) {
        try {
          encodingOf(encoding);
          return typeof encoding === 'string';
        } catch (e) {
          return false;
        }
      }

      toString(encoding, start, end) {
        var s = start === undefined ? 0 : Math.max(0, start | 0);
        var e = end === undefined ? this.length : Math.min(this.length, end | 0);
        if (e <= s) return '';
        return h.decode(this.buffer, this.byteOffset + s, e - s, encodingOf(encoding));
      }

      toJSON() {
        var data = [];
        for (var i = 0; i < this.length; i++) data.push(this[i]);
        return { type: 'Buffer', data: data };
      }

      equals(other) {
        return this.compare(other) === 0;
      }

      compare(target, targetStart, targetEnd, sourceStart, sourceEnd) {
        var ts = targetStart === undefined ? 0 : targetStart;
        var te = targetEnd === undefined ? target.length : targetEnd;
        var ss = sourceStart === undefined ? 0 : sourceStart;
        var se = sourceEnd === undefined ? this.length : sourceEnd;
        var n = Math.min(te - ts, se - ss);
        for (var i = 0; i < n; i++) {
          var a = this[ss + i];
          var b = target[ts + i];
          if (a !== b) return a < b ? -1 : 1;
        }
        var la = se - ss;
        var lb = te - ts;
        return la === lb ? 0 : la < lb ? -1 : 1;
      }

      // Node's slice shares memory, unlike TypedArray.prototype.slice.
      slice(start, end) {
        return this.subarray(start, end);
      }

      copy(target, targetStart, sourceStart, sourceEnd) {
        var ts = targetStart === undefined ? 0 : targetStart;
        var ss = sourceStart === undefined ? 0 : sourceStart;
        var se = sourceEnd === undefined ? this.length : sourceEnd;
        var n = Math.max(0, Math.min(se - ss, target.length - ts));
        for (var i = 0; i < n; i++) target[ts + i] = this[ss + i];
        return n;
      }

      fill(value, offset, end, encoding) {
        var o = offset === undefined ? 0 : offset;
        var e = end === undefined ? this.length : end;
        if (typeof offset === 'string') {
          encoding = offset;
          o = 0;
          e = this.length;
        }
        if (typeof value === 'number') {
          Uint8Array.prototype.fill.call(this, value & 255, o, e);
          return this;
        }
        var bytes = typeof value === 'string' ? Buffer.from(value, encoding) : value;
        if (bytes.length === 0) throw new TypeError('fill value is empty');
        for (var i = o, j = 0; i < e; i++, j = (j + 1) % bytes.length) this[i] = bytes[j];
        return this;
      }

      indexOf(value, byteOffset, encoding) {
        var needle = typeof value === 'number' ? [value & 255] : typeof value === 'string' ? Buffer.from(value, encoding) : value;
        var from = byteOffset === undefined ? 0 : byteOffset < 0 ? Math.max(0, this.length + byteOffset) : byteOffset;
        outer: for (var i = from; i + needle.length <= this.length; i++) {
          for (var j = 0; j < needle.length; j++) {
            if (this[i + j] !== needle[j]) continue outer;
          }
          return i;
        }
        return -1;
      }

      lastIndexOf(value, byteOffset, encoding) {
        var needle = typeof value === 'number' ? [value & 255] : typeof value === 'string' ? Buffer.from(value, encoding) : value;
        var from = byteOffset === undefined ? this.length - needle.length : Math.min(byteOffset, this.length - needle.length);
        outer: for (var i = from; i >= 0; i--) {
          for (var j = 0; j < needle.length; j++) {
            if (this[i + j] !== needle[j]) continue outer;
          }
          return i;
        }
        return -1;
      }

      includes(value, byteOffset, encoding) {
        return this.indexOf(value, byteOffset, encoding) !== -1;
      }

      write(string, offset, length, encoding) {
        if (typeof offset === 'string') {
          encoding = offset;
          offset = 0;
        } else if (typeof length === 'string') {
          encoding = length;
          length = undefined;
        }
        var o = offset === undefined ? 0 : offset;
        var bytes = Buffer.from(string, encoding);
        var n = Math.min(bytes.length, this.length - o, length === undefined ? bytes.length : length);
        for (var i = 0; i < n; i++) this[o + i] = bytes[i];
        return n;
      }

      swap16() {
        return swap(this, 2);
      }

      swap32() {
        return swap(this, 4);
      }

      swap64() {
        return swap(this, 8);
      }
    }

    function swap(b, size) {
      if (b.length % size !== 0) throw new RangeError('Buffer size must be a multiple of ' + size * 8 + '-bits');
      for (var i = 0; i < b.length; i += size) {
        for (var j = 0; j < size / 2; j++) {
          var t = b[i + j];
          b[i + j] = b[i + size - 1 - j];
          b[i + size - 1 - j] = t;
        }
      }
      return b;
    }

    // Fixed-width reads and writes, through a DataView.
    function view(b) {
      return new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    var fixed = [
      ['Int8', 'Int8', 1, false], ['UInt8', 'Uint8', 1, false],
      ['Int16BE', 'Int16', 2, false], ['Int16LE', 'Int16', 2, true],
      ['UInt16BE', 'Uint16', 2, false], ['UInt16LE', 'Uint16', 2, true],
      ['Int32BE', 'Int32', 4, false], ['Int32LE', 'Int32', 4, true],
      ['UInt32BE', 'Uint32', 4, false], ['UInt32LE', 'Uint32', 4, true],
      ['FloatBE', 'Float32', 4, false], ['FloatLE', 'Float32', 4, true],
      ['DoubleBE', 'Float64', 8, false], ['DoubleLE', 'Float64', 8, true]
    ];
    fixed.forEach(function (f) {
      var name = f[0], dv = f[1], size = f[2], little = f[3];
      Buffer.prototype['read' + name] = function (offset) {
        var o = offset === undefined ? 0 : offset;
        if (o < 0 || o + size > this.length) throw new RangeError('offset out of range');
        return view(this)['get' + dv](o, little);
      };
      Buffer.prototype['write' + name] = function (value, offset) {
        var o = offset === undefined ? 0 : offset;
        if (o < 0 || o + size > this.length) throw new RangeError('offset out of range');
        view(this)['set' + dv](o, value, little);
        return o + size;
      };
    });
    ['readIntBE', 'readIntLE', 'readUIntBE', 'readUIntLE', 'writeIntBE', 'writeIntLE', 'writeUIntBE', 'writeUIntLE']
      .forEach(function (name) {
        Buffer.prototype[name] = notModelled('Buffer.prototype.' + name);
      });

    return Buffer;
  }

  function makeTextEncoder() {
    class TextEncoder {
      get encoding() {
        return 'utf-8';
      }

      encode(input) {
        return new Uint8Array(h.encode(input === undefined ? '' : String(input), 'utf8'));
      }

      encodeInto(source, destination) {
        var read = 0;
        var written = 0;
        var s = String(source);
        for (var i = 0; i < s.length; ) {
          var cp = s.codePointAt(i);
          var units = cp > 0xffff ? 2 : 1;
          var bytes = new Uint8Array(h.encode(s.substring(i, i + units), 'utf8'));
          if (written + bytes.length > destination.length) break;
          destination.set(bytes, written);
          written += bytes.length;
          read += units;
          i += units;
        }
        return { read: read, written: written };
      }
    }

    return TextEncoder;
  }

  function makeTextDecoder() {
    class TextDecoder {
      constructor(label, options) {
        var l = label === undefined ? 'utf-8' : String(label).toLowerCase();
        if (l !== 'utf-8' && l !== 'utf8') throw new RangeError('The "' + label + '" encoding is not supported');
        this._fatal = !!(options && options.fatal);
        this._ignoreBOM = !!(options && options.ignoreBOM);
      }

      get encoding() {
        return 'utf-8';
      }

      get fatal() {
        return this._fatal;
      }

      get ignoreBOM() {
        return this._ignoreBOM;
      }

      decode(input) {
        if (input === undefined) return '';
        if (input instanceof ArrayBuffer) return h.utf8(input, 0, input.byteLength, this._fatal, this._ignoreBOM);
        return h.utf8(input.buffer, input.byteOffset, input.byteLength, this._fatal, this._ignoreBOM);
      }
    }

    return TextDecoder;
  }
});
