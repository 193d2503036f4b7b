-- Loaded by the Ardour host tests with dofile(os.getenv("PG_COMMON_LUA")).
-- pg_param_index(proc, label): a plugin parameter's index among those Ardour sees (their order may
-- include extra parameters), found by its name; nil if there is none.
-- pg_bounced_region(s, route, generator, seconds, name): the Lua DSP `generator` on the (empty)
-- track writes `seconds` of audio, which track:bounce_range records as a region; the generator goes,
-- and the region, without fades (it plays exactly its files), is put in the playlist at 1 s inside an
-- undo step Ardour knows ("insert file"), or the range that ardour7-export exports stays empty.
-- pg_session(snapshot, plugin, kind): a 48 kHz session in $PG_SESSION on the dummy backend (its blocks
-- $PG_BUFFER samples long if set, else 1024), with one stereo track holding the plugin (kind "VST3"
-- or "LV2"). Returns the session, the track and the plugin.
function pg_session(snapshot, plugin, kind)
  AudioEngine:set_backend("None (Dummy)", "", "")
  if os.getenv("PG_BUFFER") then -- another block size than the dummy backend's 1024
    assert(AudioEngine:set_buffer_size(tonumber(os.getenv("PG_BUFFER"))) == 0, "Ardour refused the buffer size")
  end
  local s = create_session(os.getenv("PG_SESSION"), snapshot, 48000)
  assert(s, "could not create a session")
  assert(s:nominal_sample_rate() == 48000, "session rate is not 48 kHz")
  local route = s:new_audio_track(2, 2, nil, 1, "pg", ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true):front()
  local proc = ARDOUR.LuaAPI.new_plugin(s, plugin, ARDOUR.PluginType[kind], "")
  if proc:isnil() then error("Ardour could not load the " .. kind .. " plugin " .. plugin) end
  assert(route:add_processor_by_index(proc, 0, nil, true) == 0, "could not add the plugin to the track")
  return s, route, proc
end

function pg_param_index(proc, label)
  local plug = proc:to_insert():plugin(0)
  for i = 0, plug:parameter_count() - 1 do
    if plug:parameter_label(i) == label then return i end
  end
  return nil
end

function pg_bounced_region(s, route, generator, seconds, name)
  local rate = s:nominal_sample_rate()
  local track = route:to_track()
  local gen = ARDOUR.LuaAPI.new_luaproc(s, generator)
  if gen:isnil() then error("Ardour could not load the Lua generator " .. generator) end
  assert(route:add_processor_by_index(gen, 0, nil, true) == 0, "could not add the generator")
  local region = track:bounce_range(0, seconds * rate, ARDOUR.InterThreadInfo(), route:main_outs(), false, name)
  if region:isnil() then error("bounce_range made no region") end
  assert(route:remove_processor(gen, nil, true) == 0, "could not remove the generator")
  local audio = region:to_audioregion()
  audio:set_fade_in_active(false)
  audio:set_fade_out_active(false)
  local playlist = track:playlist()
  s:begin_reversible_command("insert file")
  playlist:to_stateful():clear_changes()
  playlist:add_region(region, Temporal.timepos_t(rate), 1, false, 0, 0, false)
  s:add_stateful_diff_command(playlist:to_statefuldestructible())
  s:commit_reversible_command(nil)
  return region
end
