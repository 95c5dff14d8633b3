#!/usr/bin/env escript
%% -*- erlang -*-
%% The Erlang side of bench/scenarios/monitor.cjs: an Erlang monitor between two nodes on this host,
%% the way an Erlang user watches a process on another node. This escript is node A; each round it
%% starts node B (a second `erl`), spawns a process on B, monitors it, and tells the Node scenario B's
%% OS pid. The scenario SIGKILLs B (timing from its kill() call); A stamps the 'DOWN' (reason
%% noconnection: the distribution connection closed) with CLOCK_MONOTONIC, the clock of Node's
%% process.hrtime, so the scenario measures kill() -> event exactly as it does for its own monitors.
%%
%%   escript bench/peers/erlang_monitor.escript ROUNDS
%% stdout, one line each:  exit-kill <ns>   ready <B's OS pid>   down <CLOCK_MONOTONIC ns of the 'DOWN'> <reason>
%% (exit-kill: a process on B killed with exit(Pid, kill), B living on, timed by A itself)
%% stdin: one line "go" per round after `down` (the scenario's pace); EOF ends A.
-mode(compile).

main([RoundsArg]) ->
    Rounds = list_to_integer(RoundsArg),
    Tag = integer_to_list(list_to_integer(os:getpid())),
    {ok, _} = net_kernel:start([list_to_atom("interproc_bench_a_" ++ Tag), shortnames]),
    Cookie = atom_to_list(erlang:get_cookie()),
    Erl = os:find_executable("erl"),
    lists:foreach(fun(I) -> round(I, Tag, Cookie, Erl) end, lists:seq(1, Rounds)),
    halt(0).

round(I, Tag, Cookie, Erl) ->
    [_, Host] = string:split(atom_to_list(node()), "@"),
    Name = "interproc_bench_b_" ++ Tag ++ "_" ++ integer_to_list(I),
    B = list_to_atom(Name ++ "@" ++ Host),
    %% B halts by itself if A goes away (the scenario ended early): it watches A's node.
    Watchdog = lists:flatten(io_lib:format(
        "spawn(fun() -> erlang:monitor_node('~s', true), receive _ -> erlang:halt() end end).", [node()])),
    Port = open_port({spawn_executable, Erl},
                     [{args, ["-sname", Name, "-setcookie", Cookie, "-noshell", "-noinput", "-eval", Watchdog]},
                      stderr_to_stdout, exit_status]),
    ok = wait_up(B, 3000),
    %% For reference, a process on B killed by exit(Pid, kill) while B lives on: the 'DOWN' then comes
    %% as a message over the distribution connection (the figure quoted in ANCHORS.md measures this).
    Probe = spawn(B, timer, sleep, [infinity]),
    ProbeRef = erlang:monitor(process, Probe),
    timer:sleep(5),
    T0 = os_monotonic_ns(),
    exit(Probe, kill),
    receive {'DOWN', ProbeRef, process, Probe, _} -> io:format("exit-kill ~b~n", [os_monotonic_ns() - T0]) end,
    Victim = spawn(B, timer, sleep, [infinity]),
    Ref = erlang:monitor(process, Victim),
    OsPid = rpc:call(B, os, getpid, []),
    io:format("ready ~s~n", [OsPid]),
    receive
        {'DOWN', Ref, process, Victim, Reason} ->
            T = os_monotonic_ns(),
            io:format("down ~b ~p~n", [T, Reason])
    end,
    receive {Port, {exit_status, _}} -> ok after 5000 -> ok end,
    flush_port(Port),
    case io:get_line("") of
        eof -> halt(0);
        _ -> ok
    end.

%% CLOCK_MONOTONIC now, in nanoseconds (the OS clock under Erlang's monotonic time, read directly).
os_monotonic_ns() ->
    Source = erlang:system_info(os_monotonic_time_source),
    Time = proplists:get_value(time, Source),
    erlang:convert_time_unit(Time, native, nanosecond).

wait_up(_B, 0) -> timeout;
wait_up(B, N) ->
    case net_adm:ping(B) of
        pong -> ok;
        pang -> timer:sleep(10), wait_up(B, N - 1)
    end.

flush_port(Port) ->
    receive {Port, _} -> flush_port(Port) after 0 -> ok end.
