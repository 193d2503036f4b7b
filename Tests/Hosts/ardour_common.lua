-- Loaded by the Ardour host tests with dofile(os.getenv("PG_COMMON_LUA")).
-- pg_param_index(proc, label): a plugin parameter's index among those Ardour sees (their order may
-- include extra parameters), found by its name; nil if there is none.
-- pg_session(snapshot, plugin, kind): a 48 kHz session in $PG_SESSION on the dummy backend, with one
-- stereo track holding the plugin (kind "VST3" or "LV2"). Returns the session, the track and the plugin.
function pg_session(snapshot, plugin, kind)
  AudioEngine:set_backend("None (Dummy)", "", "")
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
