-- tests/lua/viz_term_spec.lua: the live view in the terminal, without a terminal: the text
-- mode drawn to strings (v:_cells), the kitty and sixel encoders checked byte for byte
-- against their specifications on tiny images (viz._kitty, viz._sixel), and how the mode and
-- the backend are chosen from the environment (child processes). The live view in a real
-- terminal (tmux) is tests/term/run.
local viz = require "viz"

local RELUA = arg and arg[-1] or "build/relua"

-- the UTF-8 characters of a string, as a list
local function chars(s)
  local t = {}
  for _, c in utf8.codes(s) do t[#t + 1] = utf8.char(c) end
  return t
end

local function is_braille(ch)
  local c = utf8.codepoint(ch)
  return c > 0x2800 and c <= 0x28FF
end

-- a color far from gray: a series or a region, not a frame, grid or label
local function saturated(c)
  local r, g, b = c >> 16 & 255, c >> 8 & 255, c & 255
  return math.max(r, g, b) - math.min(r, g, b) > 60
end

describe("the terminal's text mode", function()
  it("draws a falling loss curve as dots going down the rows, with its labels", function()
    local v = viz.open{headless = true}
    local xs, ys = {}, {}
    for i = 1, 100 do xs[i], ys[i] = i, 101 - i end
    v:smoothing(0)
    v:plot("train", xs, ys)
    local lines, fg = v:_cells(80, 20)
    assert.equal(20, #lines)
    local text = table.concat(lines, "\n")
    assert.truthy(text:find("loss", 1, true))
    assert.truthy(text:find("step", 1, true))
    assert.truthy(text:find("100", 1, true)) -- a tick label
    -- the curve: the cells with dots in the series color, column by column
    local first, last, rows_of = math.huge, 0, {}
    for r, line in ipairs(lines) do
      for k, ch in ipairs(chars(line)) do
        if is_braille(ch) and saturated(fg[r][k]) then
          rows_of[k] = rows_of[k] or {}
          table.insert(rows_of[k], r)
          first, last = math.min(first, k), math.max(last, k)
        end
      end
    end
    assert.is_true(last - first > 40, "the curve spans the plot")
    local prev, top, bottom = 0, math.huge, 0
    for k = first, last do
      if rows_of[k] then -- the lowest (the legend's swatch is at the top, in the same color)
        local mid = rows_of[k][#rows_of[k]]
        assert.is_true(mid >= prev, "the curve never goes up (column " .. k .. ")")
        prev = mid
        top, bottom = math.min(top, mid), math.max(bottom, mid)
      end
    end
    assert.is_true(bottom - top >= 8, "it falls across the rows of the plot")
  end)

  it("draws a partition of two regions in two colors, left and right", function()
    local v = viz.open{headless = true}
    local ids = {}
    for i = 1, 16 do
      ids[i] = {}
      for j = 1, 16 do ids[i][j] = j <= 8 and 1 or 2 end
    end
    v:partition_image(ids, {xlim = {-1, 1}, ylim = {-1, 1}})
    local lines, fg, bg = v:_cells(60, 24)
    assert.truthy(table.concat(lines):find("2 regions", 1, true))
    local colors, lo, hi = {}, {}, {}
    for r = 1, #bg do
      for k = 1, #bg[r] do
        local ch, c = chars(lines[r])[k], bg[r][k]
        -- the region cells: solid (a space or a half block of one color on the same)
        if saturated(c) and (ch == " " or fg[r][k] == c) then
          colors[c] = (colors[c] or 0) + 1
          lo[c], hi[c] = math.min(lo[c] or k, k), math.max(hi[c] or k, k)
        end
      end
    end
    -- two colors fill the regions, each on its own side; a cell on the boundary may mix them
    local distinct = {}
    for c in pairs(colors) do distinct[#distinct + 1] = c end
    table.sort(distinct, function(a, b) return colors[a] > colors[b] end)
    assert.is_true(#distinct >= 2)
    local a, b = distinct[1], distinct[2]
    assert.is_true(colors[a] > 100 and colors[b] > 100)
    assert.is_true(hi[a] < lo[b] or hi[b] < lo[a], "one color a side")
    for i = 3, #distinct do assert.is_true(colors[distinct[i]] <= #lines) end
  end)

  it("shows the points as dots in their classes' colors, and a legend of the classes", function()
    local v = viz.open{headless = true}
    local ids, pts, labels = {}, {}, {}
    for i = 1, 8 do ids[i] = {} for j = 1, 8 do ids[i][j] = 1 end end
    for i = 1, 40 do pts[i], labels[i] = {(i % 8) / 8, (i // 8) / 5}, 1 + i % 2 end
    v:partition_image(ids, {xlim = {0, 1}, ylim = {0, 1}, points = pts, labels = labels})
    local lines, fg = v:_cells(60, 24)
    local legend, dots = nil, {}
    for r, line in ipairs(lines) do
      if line:find("class  \u{2022} 1  \u{2022} 2", 1, true) then legend = r end
      for k, ch in ipairs(chars(line)) do
        if ch == "\u{2022}" and not line:find("class", 1, true) then dots[fg[r][k]] = true end
      end
    end
    assert.truthy(legend, "the legend row")
    local n = 0
    for _ in pairs(dots) do n = n + 1 end
    assert.equal(2, n, "two classes, two colors")
  end)

  it("speaks 24-bit, 256 colors or none, and half blocks on request", function()
    local v = viz.open{headless = true}
    v:plot("train", {1, 2, 3, 4}, {4, 3, 2, 1})
    local _, _, _, ansi24 = v:_cells(60, 16)
    assert.truthy(ansi24:find("\27[38;2;", 1, true))
    local _, _, _, ansi256 = v:_cells(60, 16, {depth = "256"})
    assert.truthy(ansi256:find("\27[38;5;", 1, true))
    assert.falsy(ansi256:find("\27[38;2;", 1, true))
    local plain_lines, _, _, plain = v:_cells(60, 16, {depth = "plain"})
    assert.falsy(plain:find("\27", 1, true))
    assert.truthy(table.concat(plain_lines):find("loss", 1, true))
    local block_lines = v:_cells(60, 16, {glyphs = "blocks"})
    for _, line in ipairs(block_lines) do
      for _, ch in ipairs(chars(line)) do assert.is_false(is_braille(ch)) end
    end
    assert.has_error(function() v:_cells(60, 16, {depth = "16"}) end)
  end)

  it("fits 80x24 with every panel", function()
    local v = viz.open{headless = true}
    for i = 1, 50 do v:plot("train", i, 1 / i) end
    v:sparsity({"ReLU 1", "ReLU 3"}, {0.5, 0.6}, {1, 2}, 1)
    v:sparsity({"ReLU 1", "ReLU 3"}, {0.4, 0.7}, {1, 3}, 2)
    v:partition_image({{1, 2}, {3, 4}}, {xlim = {0, 1}, ylim = {0, 1}})
    local lines = v:_cells(80, 16)
    local text = table.concat(lines, "\n")
    for _, s in ipairs({"loss", "activation sparsity", "ReLU partition", "ReLU 1", "ReLU 3",
      "4 regions"}) do
      assert.truthy(text:find(s, 1, true), s)
    end
    for _, line in ipairs(lines) do assert.equal(80, utf8.len(line)) end
  end)
end)

-- ---- the image encoders ----

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function unbase64(s)
  local out, bits, n = {}, 0, 0
  for c in s:gmatch("[^=]") do
    bits = bits << 6 | (B64:find(c, 1, true) - 1)
    n = n + 6
    if n >= 8 then
      n = n - 8
      out[#out + 1] = string.char(bits >> n & 255)
    end
  end
  return table.concat(out)
end

-- w x h RGBA pixels, pixel(x, y) -> r, g, b (0-based)
local function image(w, h, pixel)
  local t = {}
  for y = 0, h - 1 do
    for x = 0, w - 1 do
      local r, g, b = pixel(x, y)
      t[#t + 1] = string.char(r, g, b, 255)
    end
  end
  return table.concat(t)
end

describe("the kitty graphics encoder", function()
  it("sends one chunk for a tiny image: keys, payload, terminator", function()
    local px = image(2, 1, function(x) return x == 0 and 255 or 0, x == 1 and 255 or 0, 0 end)
    -- RGB ff 00 00 00 ff 00 is "/wAAAP8A" in base64
    assert.equal("\27_Ga=T,f=24,s=2,v=1,C=1,q=2,m=0;/wAAAP8A\27\\", viz._kitty(2, 1, px))
    assert.equal("\27_Ga=T,f=24,s=2,v=1,i=7,p=1,c=10,r=4,C=1,q=2,m=0;/wAAAP8A\27\\",
      viz._kitty(2, 1, px, {id = 7, placement = 1, cols = 10, rows = 4}))
  end)

  it("splits the payload in chunks of 4096, m=1 but on the last, keys on the first only", function()
    local px = image(40, 30, function(x, y) return x * 6, y * 8, 77 end)
    local s = viz._kitty(40, 30, px)
    local chunks = {}
    for keys, data in s:gmatch("\27_G([^;]*);([^\27]*)\27\\") do chunks[#chunks + 1] = {keys, data} end
    -- 40 x 30 x 3 = 3600 bytes, 4800 of base64: 4096 + 704
    assert.equal(2, #chunks)
    assert.equal("a=T,f=24,s=40,v=30,C=1,q=2,m=1", chunks[1][1])
    assert.equal("m=0", chunks[2][1])
    assert.equal(4096, #chunks[1][2])
    assert.equal(704, #chunks[2][2])
    local rgb = unbase64(chunks[1][2] .. chunks[2][2])
    assert.equal(3600, #rgb)
    for i = 0, 40 * 30 - 1 do
      assert.equal(px:sub(4 * i + 1, 4 * i + 3), rgb:sub(3 * i + 1, 3 * i + 3))
    end
    assert.equal(#s, #("\27_G;\27\\"):rep(2) + #chunks[1][1] + #chunks[2][1] + 4800)
  end)

  it("compresses with o=z (a zlib stream) and passes through tmux", function()
    local px = image(40, 30, function() return 10, 20, 30 end)
    local z = viz._kitty(40, 30, px, {compress = true})
    local keys, data = z:match("^\27_G([^;]*);([^\27]*)\27\\$")
    assert.equal("a=T,f=24,s=40,v=30,o=z,C=1,q=2,m=0", keys)
    assert.equal(0x78, unbase64(data):byte(1)) -- zlib's header
    assert.is_true(#data < 200)
    local small = image(2, 1, function() return 0, 0, 0 end)
    local plain = viz._kitty(2, 1, small)
    assert.equal("\27Ptmux;" .. plain:gsub("\27", "\27\27") .. "\27\\",
      viz._kitty(2, 1, small, {tmux = true}))
  end)
end)

describe("the sixel encoder", function()
  it("writes the raster, the registers and one band, color by color", function()
    -- top row red, bottom row blue: register 0 red (100% red), 1 blue; in the band, red is
    -- bit 0 of both columns (63 + 1 = "@"), blue bit 1 (63 + 2 = "A")
    local px = image(2, 2, function(_, y) return y == 0 and 255 or 0, 0, y == 1 and 255 or 0 end)
    assert.equal("\27Pq\"1;1;2;2#0;2;100;0;0#1;2;0;0;100#0@@$#1AA-\27\\", viz._sixel(2, 2, px))
  end)

  it("runs of four or more as !count, bands of six rows", function()
    local px = image(10, 7, function() return 255, 255, 255 end)
    -- six full rows ("~" = 63 + 63) in the first band, one in the second ("@")
    assert.equal("\27Pq\"1;1;10;7#0;2;100;100;100#0!10~-#0!10@-\27\\", viz._sixel(10, 7, px))
  end)

  it("uses the cube and the grays past 256 colors, and tmux's passthrough", function()
    local px = image(32, 16, function(x, y) return x * 8, y * 16, (x + y) * 5 end)
    local s = viz._sixel(32, 16, px)
    local registers = 0
    for _ in s:gmatch("#%d+;2;") do registers = registers + 1 end
    assert.equal(240, registers)
    assert.truthy(s:find("#0;2;0;0;0", 1, true))   -- the cube's first
    assert.truthy(s:find("#239;2;93;93;93", 1, true)) -- the last gray, 238 = 93%
    local small = image(1, 1, function() return 0, 0, 0 end)
    assert.equal("\27Ptmux;" .. viz._sixel(1, 1, small):gsub("\27", "\27\27") .. "\27\\",
      viz._sixel(1, 1, small, {tmux = true}))
  end)
end)

-- ---- the choice ----

-- runs code in a child relua with env (a string of NAME=value), returns what it printed
local function child(env, code)
  local cmd = string.format("env -u TMUX -u KITTY_WINDOW_ID -u TERM_PROGRAM -u COLORTERM "
    .. "-u NO_COLOR -u RELUA_VIZ -u RELUA_VIZ_TERM -u DISPLAY -u WAYLAND_DISPLAY %s %s -e %q "
    .. "</dev/null 2>&1", env, RELUA, "local viz = require 'viz' " .. code)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

describe("choosing the terminal's mode and the backend", function()
  local detect = "local t = viz._term_detect() print(t.mode, t.glyphs, t.depth)"

  it("reads the terminal from the environment", function()
    assert.equal("kitty\tbraille\t256\n", child("TERM=xterm-kitty", detect))
    assert.equal("kitty\tbraille\t256\n", child("TERM=xterm-256color TERM_PROGRAM=WezTerm", detect))
    assert.equal("sixel\tbraille\t256\n", child("TERM=foot", detect))
    assert.equal("text\tbraille\t24bit\n", child("TERM=xterm COLORTERM=truecolor", detect))
    assert.equal("text\tbraille\tplain\n", child("TERM=xterm NO_COLOR=1", detect))
    assert.equal("text\tbraille\tplain\n", child("TERM=dumb", detect))
  end)

  it("lets RELUA_VIZ_TERM override it", function()
    assert.equal("sixel\tbraille\t256\n", child("TERM=xterm-kitty RELUA_VIZ_TERM=sixel", detect))
    assert.equal("text\tblocks\t256\n", child("TERM=xterm-kitty RELUA_VIZ_TERM=blocks", detect))
    assert.equal("kitty\tbraille\t256\n", child("TERM=xterm RELUA_VIZ_TERM=kitty", detect))
    assert.truthy(child("TERM=xterm RELUA_VIZ_TERM=kity", detect):find(
      "RELUA_VIZ_TERM=kity is none of kitty, sixel, text", 1, true))
  end)

  it("shows no images in tmux without its passthrough", function()
    -- a TMUX naming no server: tmux cannot say allow-passthrough is on
    assert.equal("text\tbraille\t256\n",
      child("TERM=xterm-kitty TMUX=/nonexistent/socket,1,0", detect))
  end)

  it("opens offscreen when standard output is no terminal, or as RELUA_VIZ says", function()
    local show = "local v = viz.open{} print(v.backend, v.headless) "
    assert.equal("offscreen\ttrue\n", child("TERM=xterm", show))
    assert.equal("offscreen\ttrue\n", child("TERM=xterm RELUA_VIZ=offscreen", show))
    assert.equal("offscreen\ttrue\n", child("TERM=xterm", "local v = viz.open{backend = "
      .. "'offscreen'} print(v.backend, v.headless)"))
    assert.truthy(child("RELUA_VIZ=termnial", show):find(
      'backend must be "window", "terminal" or "offscreen", got "termnial" (from $RELUA_VIZ)',
      1, true))
    assert.has_error(function() viz.open{backend = "tty"} end,
      'viz.open: backend must be "window", "terminal" or "offscreen", got "tty"')
    assert.has_error(function() viz.open{headless = true, rows = 2} end)
  end)
end)
