-- natsim.lua - Wireshark dissector for natsim's STUN methods and attributes
-- (docs/protocol.md is the wire specification).
--
-- natsim's rendezvous and relay messages are STUN messages (RFC 8489) with
-- methods and attributes nobody has registered, so Wireshark's own STUN
-- dissector shows them as "Unknown Request" and "Unknown attribute 0xe001".
-- This post-dissector runs after it and, for every STUN message in a frame,
-- adds a "natsim" tree with the method by name and each natsim attribute
-- decoded, and puts natsim's names into the Info column.
--
-- Use:  tshark -X lua_script:docs/wireshark/natsim.lua -r capture.pcap -V
--       wireshark -X lua_script:docs/wireshark/natsim.lua capture.pcap
-- or copy this file into Wireshark's personal Lua plugins folder
-- (Help > About Wireshark > Folders). Display filters: natsim,
-- natsim.method == 0x0c1, natsim.name == "alice", natsim.candidate.type == 1,
-- natsim.candidate.ipv6 == 2001:db8::5 ... natsim's messages travel over UDP
-- of either family (Wireshark's STUN dissector runs on both); an IPv6
-- candidate is the IPv4 one's layout with family 0x02 and 16 address bytes.

local COOKIE = 0x2112A442

local methods = {
	[0x001] = "Binding",
	[0x0C1] = "REGISTER",
	[0x0C2] = "CONNECT",
	[0x0C3] = "INTRODUCE",
	[0x0C4] = "RELAY",
	[0x0C5] = "DATA",
}
local natsim_methods = { [0x0C1] = true, [0x0C2] = true, [0x0C3] = true, [0x0C4] = true, [0x0C5] = true }

local classes = { [0] = "Request", [1] = "Indication", [2] = "Success Response", [3] = "Error Response" }

local attrs = {
	[0xE001] = "NATSIM-NAME",
	[0xE002] = "NATSIM-SIGN-KEY",
	[0xE003] = "NATSIM-BOX-KEY",
	[0xE004] = "NATSIM-CANDIDATE",
	[0xE005] = "NATSIM-TIMESTAMP",
	[0xE006] = "NATSIM-SIGNATURE",
	[0xE007] = "NATSIM-PAYLOAD",
	[0xE008] = "NATSIM-PEER",
	[0xE009] = "NATSIM-SESSION",
	[0xE00A] = "NATSIM-TRANSPORT",
	[0xE00B] = "NATSIM-MAPPING",
}

local cand_types = { [0] = "host", [1] = "srflx", [2] = "prflx", [4] = "mapped" }
local mapping_kinds = { [1] = "same port", [2] = "sequential", [3] = "random" }

local natsim = Proto("natsim", "natsim rendezvous and relay (STUN methods)")

local f = {
	method = ProtoField.uint16("natsim.method", "Method", base.HEX, methods),
	class = ProtoField.uint8("natsim.class", "Class", base.DEC, classes),
	attr = ProtoField.uint16("natsim.attr.type", "Attribute", base.HEX, attrs),
	attr_name = ProtoField.string("natsim.attr.name", "Attribute name"),
	attr_len = ProtoField.uint16("natsim.attr.length", "Length", base.DEC),
	name = ProtoField.string("natsim.name", "Name"),
	peer = ProtoField.string("natsim.peer", "Peer"),
	sign_key = ProtoField.bytes("natsim.sign_key", "Ed25519 public key"),
	box_key = ProtoField.bytes("natsim.box_key", "X25519 public key"),
	cand_ip = ProtoField.ipv4("natsim.candidate.ip", "Candidate address"),
	cand_ip6 = ProtoField.ipv6("natsim.candidate.ipv6", "Candidate address"),
	cand_port = ProtoField.uint16("natsim.candidate.port", "Candidate port", base.DEC),
	cand_type = ProtoField.uint8("natsim.candidate.type", "Candidate type", base.DEC, cand_types),
	timestamp = ProtoField.uint64("natsim.timestamp", "Timestamp (ns)", base.DEC),
	signature = ProtoField.bytes("natsim.signature", "Ed25519 signature"),
	counter = ProtoField.uint64("natsim.payload.counter", "Payload counter", base.DEC),
	sealed = ProtoField.bytes("natsim.payload.sealed", "Sealed payload (crypto_box)"),
	session = ProtoField.uint64("natsim.session", "Session id", base.HEX),
}
natsim.fields = f

local stun_field = Field.new("stun")

-- Bit operations in plain arithmetic: Wireshark has shipped Lua 5.1 to 5.4,
-- whose bit libraries differ; these work in all of them (values < 2^32).
local function bitop(a, b, keep)
	local r, p = 0, 1
	while a > 0 or b > 0 do
		if keep(a % 2, b % 2) then
			r = r + p
		end
		a, b, p = math.floor(a / 2), math.floor(b / 2), p * 2
	end
	return r
end
local function band(a, b)
	return bitop(a, b, function(x, y) return x == 1 and y == 1 end)
end
local function bxor(a, b)
	return bitop(a, b, function(x, y) return x ~= y end)
end

-- The method and class of a STUN message type (RFC 8489 section 5): the
-- class bits C0 (0x0010) and C1 (0x0100) sit between the method's bits.
local function split_type(t)
	local method = band(t, 0x000F) + band(t, 0x00E0) / 2 + band(t, 0x3E00) / 4
	local class = band(t, 0x0100) / 128 + band(t, 0x0010) / 16
	return math.floor(method), math.floor(class)
end

-- An IPv6 candidate (length 21): XOR-MAPPED-ADDRESS of family 0x02 (RFC 8489
-- 14.2: the address XORed with the magic cookie then the transaction ID, the
-- 12 bytes at offset 8 of the message `m`), then the type byte.
local function add_candidate6(tree, v, m)
	local key = { 0x21, 0x12, 0xA4, 0x42 }
	for i = 0, 11 do
		key[5 + i] = m:range(8 + i, 1):uint()
	end
	local groups = {}
	for g = 0, 7 do
		local hi = bxor(v:range(4 + 2 * g, 1):uint(), key[1 + 2 * g])
		local lo = bxor(v:range(5 + 2 * g, 1):uint(), key[2 + 2 * g])
		groups[g + 1] = string.format("%x", hi * 256 + lo)
	end
	local a = Address.ipv6(table.concat(groups, ":"))
	local port = bxor(v:range(2, 2):uint(), math.floor(COOKIE / 65536))
	local ty = v:range(20, 1):uint()
	tree:add(f.cand_ip6, v:range(4, 16), a)
	tree:add(f.cand_port, v:range(2, 2), port)
	tree:add(f.cand_type, v:range(20, 1))
	-- RFC 5952 section 6: [address]:port (Wireshark writes the address in
	-- its section 4 form)
	tree:append_text(string.format(": %s [%s]:%d", cand_types[ty] or "?", tostring(a), port))
end

-- One natsim attribute, `v` its value's range, `m` its message's.
local function add_value(tree, at, v, m, summary)
	if at == 0xE001 or at == 0xE008 then
		local s = v:string()
		tree:add(at == 0xE001 and f.name or f.peer, v)
		tree:append_text(": " .. s)
		table.insert(summary, (at == 0xE001 and "name=" or "peer=") .. s)
	elseif at == 0xE002 then
		tree:add(f.sign_key, v)
	elseif at == 0xE003 then
		tree:add(f.box_key, v)
	elseif at == 0xE004 and v:len() == 9 then
		-- XOR-MAPPED-ADDRESS encoding (RFC 8489 14.2), then the type byte.
		local port = bxor(v:range(2, 2):uint(), math.floor(COOKIE / 65536))
		local ip = bxor(v:range(4, 4):uint(), COOKIE)
		local a = Address.ip(string.format("%d.%d.%d.%d", math.floor(ip / 16777216),
			math.floor(ip / 65536) % 256, math.floor(ip / 256) % 256, ip % 256))
		local ty = v:range(8, 1):uint()
		tree:add(f.cand_ip, v:range(4, 4), a)
		tree:add(f.cand_port, v:range(2, 2), port)
		tree:add(f.cand_type, v:range(8, 1))
		tree:append_text(string.format(": %s %s:%d", cand_types[ty] or "?", tostring(a), port))
	elseif at == 0xE004 and v:len() == 21 and v:range(1, 1):uint() == 0x02 then
		add_candidate6(tree, v, m)
	elseif at == 0xE005 and v:len() == 8 then
		tree:add(f.timestamp, v)
	elseif at == 0xE006 then
		tree:add(f.signature, v)
	elseif at == 0xE007 and v:len() >= 8 then
		tree:add(f.counter, v:range(0, 8))
		if v:len() > 8 then
			tree:add(f.sealed, v:range(8))
		end
		tree:append_text(string.format(": %d sealed bytes", v:len() - 8))
	elseif at == 0xE009 and v:len() == 8 then
		tree:add(f.session, v)
		tree:append_text(": " .. v:bytes():tohex():lower())
	elseif at == 0xE00A and v:len() == 1 then
		-- the candidates' transport: 6 (TCP's protocol number); absent, UDP
		tree:append_text(v:uint() == 6 and ": TCP candidates" or ": ?")
		table.insert(summary, v:uint() == 6 and "tcp" or "transport=?")
	elseif at == 0xE00B and v:len() == 6 then
		-- how the sender's NAT assigns ports: kind, step, last port seen
		local kind = mapping_kinds[v:range(0, 1):uint()] or "?"
		tree:append_text(string.format(": %s, delta %d, last port %d", kind,
			v:range(2, 2):int(), v:range(4, 2):uint()))
		table.insert(summary, "mapping=" .. kind)
	end
end

-- The attributes of one STUN message `m` (a range from its first byte).
local function add_attrs(tree, m, summary)
	local off, len = 20, m:len()
	while off + 4 <= len do
		local at, alen = m:range(off, 2):uint(), m:range(off + 2, 2):uint()
		if off + 4 + alen > len then
			break
		end
		if attrs[at] then
			local item = tree:add(f.attr, m:range(off, 2))
			item:set_text(attrs[at])
			item:add(f.attr_name, m:range(off, 2), attrs[at])
			item:add(f.attr_len, m:range(off + 2, 2))
			if alen > 0 then
				add_value(item, at, m:range(off + 4, alen), m, summary)
			end
		end
		off = off + 4 + alen + (4 - alen % 4) % 4
	end
end

local function dissect_one(m, pinfo, tree)
	if m:len() < 20 or m:range(4, 4):uint() ~= COOKIE then
		return -- RFC 3489 messages carry nothing of natsim's
	end
	local method, class = split_type(m:range(0, 2):uint())
	if not natsim_methods[method] then
		return
	end
	local t = tree:add(natsim, m)
	t:add(f.method, m:range(0, 2), method)
	t:add(f.class, m:range(0, 2), class)
	local summary = {}
	add_attrs(t, m, summary)
	local text = string.format("natsim %s %s", methods[method], classes[class])
	if #summary > 0 then
		text = text .. " " .. table.concat(summary, " ")
	end
	t:append_text(": " .. text)
	pinfo.cols.protocol:set("natsim")
	pinfo.cols.info:set(text)
end

function natsim.dissector(tvb, pinfo, tree)
	for _, fi in ipairs({ stun_field() }) do
		dissect_one(fi.range, pinfo, tree)
	end
end

-- true: run with every field available even without a tree (tshark -T fields).
register_postdissector(natsim, true)
